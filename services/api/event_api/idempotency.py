"""The Idempotency-Key request header: a retried request keeps its event id.

Delivery is at least once: after the send budget a 503 may still be followed by the record being
written, and the client's retry is a second write. With `Idempotency-Key` the event id is
derived from the key and the name, so the retry carries the same event id and the same record
key (the name: same partition, in order) as the first attempt, and a consumer drops every event
whose id it has already processed.

Accepted forms (issue 27.4), one header field only (a repeated field is a 400):
- `<key>`: a plain opaque key, 8-128 of A-Z a-z 0-9 . _ ~ -, unique per logical request (a UUID
  is ideal);
- `<scope>:<key>`: the same key in a namespace chosen by the client (scope: 1-64 of
  A-Z a-z 0-9 . _ -, e.g. its own name) so that two clients picking the same key do not
  collide. A namespace, not a credential;
- either of them as a quoted string (`"<key>"`, `"<scope>:<key>"`): the Structured Field String
  of the IETF httpapi draft "The Idempotency-Key HTTP Header Field". The quotes are syntax: the
  quoted and the unquoted forms are the same key (the same event id).
Anything else (other characters, escapes, parameters, lengths) is a 400 problem.

Conflict rule. The server keeps no state: it cannot tell a retry from a reuse of the key. The
id is derived from (key, name): the same key with the same name is the same event (a retry:
consumers drop the copy), the same key with another name is another event with another id. A
client must not reuse a key for another logical request with the same name: that request
would be taken for a retry and dropped by consumers.
"""

from __future__ import annotations

import uuid

HEADER = "Idempotency-Key"
SCOPE_CHARACTERS = "A-Za-z0-9._-"
KEY_CHARACTERS = "A-Za-z0-9._~-"
_KEY = f"(?:[{SCOPE_CHARACTERS}]{{1,64}}:)?[{KEY_CHARACTERS}]{{8,128}}"
PATTERN = f'^{_KEY}$|^"{_KEY}"$'
MAX_LENGTH = 1 + 64 + 1 + 128 + 1
# Fixed for this API: the same (scope, key, name) must map to the same id in every release.
_NAMESPACE = uuid.UUID("6f1b6a52-3c1e-4f59-9a57-0d5e1e0b7a61")

DESCRIPTION = (
    "Makes a retry recognisable. Format `<key>` or `<scope>:<key>`, optionally as a quoted "
    "string (`\"<key>\"`, the IETF httpapi draft's form; the quotes are not part of the key): "
    "key 8-128 of `A-Za-z0-9._~-`, unique per logical request (a UUID); scope (optional) 1-64 "
    "of `A-Za-z0-9._-`, chosen by the client (e.g. its name, so clients do not collide). Given "
    "once: a repeated header is a 400. The same key and name always yield the same event id "
    "(UUIDv5) and record key, so a retry after a 503 that was written anyway is a duplicate "
    "with the same `event_id`: consumers keep the first event with a given id and drop the "
    "others. The same key with another name is another event. Without the header every "
    "request gets a new UUIDv7 event id."
)


def derived_event_id(idempotency_key: str, name: str) -> uuid.UUID:
    """The event id of a request carrying `idempotency_key` (already validated). The quoted
    form is the same key; `<scope>:<key>` ids are those of every earlier release."""
    if idempotency_key[0] == '"':
        idempotency_key = idempotency_key[1:-1]
    return uuid.uuid5(_NAMESPACE, f"{idempotency_key}\n{name}")
