"""Keys for hot inserts: version 7 UUIDs, ordered by creation time, still random within a millisecond."""

import time
import uuid

from forever.db import time_ordered_id, time_ordered_uuid


def test_is_an_rfc_9562_version_7_uuid():
    key = time_ordered_uuid()
    assert key.version == 7
    assert key.variant == uuid.RFC_4122
    assert uuid.UUID(str(key)) == key


def test_starts_with_the_unix_milliseconds_of_its_creation():
    before = time.time_ns() // 1_000_000
    key = time_ordered_uuid()
    after = time.time_ns() // 1_000_000
    assert before <= key.int >> 80 <= after


def test_later_keys_sort_after_earlier_ones_and_none_repeat():
    first = time_ordered_uuid()
    time.sleep(0.002)
    keys = [time_ordered_uuid() for _ in range(10_000)]
    assert all(str(first) < str(key) for key in keys)
    assert len(set(keys)) == len(keys)


def test_the_text_form_is_the_uuid_printed():
    before = time.time_ns() // 1_000_000
    text = time_ordered_id()
    key = uuid.UUID(text)
    assert str(key) == text
    assert key.version == 7 and key.variant == uuid.RFC_4122
    assert before <= key.int >> 80 <= time.time_ns() // 1_000_000
