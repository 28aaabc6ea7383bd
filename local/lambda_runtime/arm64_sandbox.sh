#!/bin/sh
# The arm64 tier's execution environment (started by local/lambda_runtime/arm64.py).
#
#   unshare --mount --pid --kill-child -- sh arm64_sandbox.sh \
#       ROOTFS PACKAGE RUNTIME RIE_DIR [NAME=FILE ...] -- COMMAND [ARG ...]
#
# This runs as pid 1 of fresh mount and pid namespaces. It lays out what Lambda's execution
# environment has and nothing else, then chroots into the Debian trixie arm64 tree and runs
# COMMAND (the RIE) in /var/task; binfmt_misc hands every arm64 binary in there to qemu.
# Every mount below is private to the mount namespace: it disappears with the namespace's last
# process, so nothing ever stays mounted on the host, whatever way the emulator ends.
set -eu

root=$1 package=$2 runtime=$3 rie_dir=$4
shift 4

# Lambda's file system is read-only except /tmp ("Lambda execution environment",
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); it also keeps
# the cached tree unchanged by whatever a function does.
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
# This namespace's processes only, as a function sees its own sandbox's.
mount -t proc proc "$root/proc"
# A few device nodes, bound from the host's. No /dev/shm: Lambda has none, so Python's
# multiprocessing.Pool and Queue fail there ("Parallel Processing in Python with AWS Lambda",
# https://aws.amazon.com/blogs/compute/parallel-processing-in-python-with-aws-lambda/); this
# tier must show that, not hide it.
mount -t tmpfs -o mode=755,size=64k tmpfs "$root/dev"
for node in null zero full random urandom; do
    : > "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
# /tmp: Lambda's default ephemeral storage is 512 MB.
mount -t tmpfs -o mode=1777,size=512m tmpfs "$root/tmp"
# The deployment package at /var/task (read-only, as Lambda extracts it), the runtime's own
# libraries (awslambdaric) at /var/runtime, the RIE in a folder of its own.
mount --bind -o ro "$package" "$root/var/task"
mount --bind -o ro "$runtime" "$root/var/runtime"
mount --bind -o ro "$rie_dir" "$root/var/rie"
# Files the caller exposes (e.g. a local broker's CA), read-only under /mnt.
mount -t tmpfs -o mode=755,size=64k tmpfs "$root/mnt"
while [ "$1" != "--" ]; do
    name=${1%%=*}
    file=${1#*=}
    : > "$root/mnt/$name"
    mount --bind -o ro "$file" "$root/mnt/$name"
    shift
done
shift

# chroot + chdir + exec, still pid 1: the RIE's death ends the namespace and its mounts.
exec unshare --root="$root" --wd=/var/task -- "$@"
