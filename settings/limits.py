"""The AWS limits the stack settings enforce: the components' own (components/limits.py).

The library declares each limit once with its page; the program's settings read them from there,
so the dependency runs from the program to the library, never back.
"""

from components.limits import *  # noqa: F403 - the settings' view of the library's limits
