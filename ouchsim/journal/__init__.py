"""The journal: an append-only, CRC-framed file of every input of one trading session.

One file per SoupBinTCP session (trading day): ``<journal dir>/<session id>.ouchj``, e.g.
``journal/2026112601.ouchj``; a day roll starts ``2026112602.ouchj``. Layout of a file (all
integers little-endian):

- Header, 48 bytes: magic ``OUCHJRNL``, version (u16), dialect (16 bytes, space padded),
  SoupBinTCP session id (10 bytes), trading date (``YYYYMMDD``), CRC32 of the 44 bytes before it.
- Records, each ``crc32 u32 | length u32 | kind u8 | timestamp u64 | account length u8 | account |
  data``: ``length`` counts from ``kind`` to the end of ``data``; the CRC covers ``length`` and
  everything after it, so a torn or damaged record is never taken for a good one.
  ``timestamp`` is the input's OUCH time (ns past the exchange's midnight). Kinds: ``I`` an inbound
  payload of ``account``, ``D`` a disconnect of ``account`` that cancels its orders, ``C`` an
  operator command (``data`` is its text, e.g. ``open``, ``halt 7203``, ``roll``).

`JournalWriter` appends: records of one reactor turn are buffered and written with one
``os.write`` at the end of the turn; outbound messages caused by them are held and published only
once that write (and the fsync the policy asks for) is done. `JournalReader` reads a whole file
and iterates its records, telling a torn tail (a crash mid-write: dropped and truncated at
recovery) from damage inside the file (refused).
"""

from ouchsim.journal.format import (
    DISCONNECT,
    FSYNC_POLICIES,
    HEADER,
    INBOUND,
    KINDS,
    MAGIC,
    MAX_BODY,
    MIN_BODY,
    OPERATOR,
    RECORD_HEAD,
    SUFFIX,
    VERSION,
    Header,
    JournalError,
    JournalReader,
    Record,
    Tail,
    encode_record,
    journal_path,
    sessions_of,
)
from ouchsim.journal.writer import JournalWriter

__all__ = [
    "DISCONNECT",
    "FSYNC_POLICIES",
    "HEADER",
    "INBOUND",
    "KINDS",
    "MAGIC",
    "MAX_BODY",
    "MIN_BODY",
    "OPERATOR",
    "RECORD_HEAD",
    "SUFFIX",
    "VERSION",
    "Header",
    "JournalError",
    "JournalReader",
    "JournalWriter",
    "Record",
    "Tail",
    "encode_record",
    "journal_path",
    "sessions_of",
]
