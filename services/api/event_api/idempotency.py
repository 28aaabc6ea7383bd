"""The Idempotency-Key request header: a retried request keeps its event id.

Delivery is at least once: after the send budget a 503 may still be followed by the record being
written, and the client's retry is a second write. With `Idempotency-Key: <scope>:<key>` the
event id is derived from the scope, the key and the name, so the retry carries the same event
id and the same record key (the name: same partition, in order) as the first attempt, and a
consumer drops every event whose id it has already processed.

- scope: 1-64 of A-Z a-z 0-9 . _ -, chosen by the client (e.g. its own name) so that two
  clients picking the same key do not collide. It is a namespace, not a credential.
- key: 8-128 of A-Z a-z 0-9 . _ ~ -, unique per logical request (a UUID is ideal).
"""

from __future__ import annotations

import uuid

HEADER = "Idempotency-Key"
SCOPE_CHARACTERS = "A-Za-z0-9._-"
KEY_CHARACTERS = "A-Za-z0-9._~-"
PATTERN = f"^[{SCOPE_CHARACTERS}]{{1,64}}:[{KEY_CHARACTERS}]{{8,128}}$"
MAX_LENGTH = 64 + 1 + 128
# Fixed for this API: the same (scope, key, name) must map to the same id in every release.
_NAMESPACE = uuid.UUID("6f1b6a52-3c1e-4f59-9a57-0d5e1e0b7a61")

DESCRIPTION = (
    "Makes a retry recognisable. Format `<scope>:<key>`: scope 1-64 of `A-Za-z0-9._-` (chosen "
    "by the client, e.g. its name, so clients do not collide), key 8-128 of `A-Za-z0-9._~-`, "
    "unique per logical request (a UUID). The same scope, key and name always yield the same "
    "event id (UUIDv5) and record key, so a retry after a 503 that was written anyway is a "
    "duplicate with the same `event_id`: consumers keep the first event with a given id and "
    "drop the others. Without the header every request gets a new UUIDv7 event id."
)


def derived_event_id(idempotency_key: str, name: str) -> uuid.UUID:
    """The event id of a request carrying `idempotency_key` (already validated)."""
    return uuid.uuid5(_NAMESPACE, f"{idempotency_key}\n{name}")
