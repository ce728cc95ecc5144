"""Sealed ballots and the scrutineers' key: libsodium (PyNaCl) and SLIP-39 (shamir-mnemonic).

A session's ballots are sealed to its public key as they are cast. The private key exists only
as k-of-n shares printed for the scrutineers; it is rebuilt in memory to count and dropped at
once, so a copy of the database, its WAL or a backup holds nothing that can be read or linked.
None of the cryptography is ours: sealed boxes, padding and the key derivation (BLAKE2b with a
key and a personal string, as libsodium's crypto_kdf does) are libsodium's, the sharing is
SLIP-39. Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

import shamir_mnemonic
from nacl.bindings import sodium_pad, sodium_unpad
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from shamir_mnemonic.wordlist import WORDLIST

MASTER_SECRET_BYTES = 16  # 128 bits, as strong as X25519; SLIP-39 makes it 20 words a share
MAX_SHARES = 16  # SLIP-39's limit on the members of a group
KEY_PURPOSE = b"ballot-seal-key"  # BLAKE2b's personal string (at most 16 bytes)
TEST_BALLOT_BLOCK = 64
_WORD = re.compile(r"[a-z]+")
_WORDS = frozenset(WORDLIST)
_BY_PREFIX = {word[:4]: word for word in WORDLIST}  # SLIP-39 words differ in their first four letters


class ShareError(ValueError):
    """A share that cannot be used, with a reason the service turns into a sentence."""

    def __init__(self, reason: str, **details) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


# Reasons a ShareError carries.
UNKNOWN_WORD = "unknown_word"  # details: position, word
BAD_SHARE = "bad_share"  # a wrong word count or a failed checksum: a typo or a damaged print
OTHER_SET = "other_set"  # a share of another key (another session, or an earlier ceremony)
DUPLICATE = "duplicate"  # details: number
TOO_FEW = "too_few"  # details: given, needed
WRONG_KEY = "wrong_key"  # the shares agree with each other but not with the key the ballots were sealed to


@dataclass(frozen=True)
class Ceremony:
    """What a key ceremony produces. `shares` are shown once and never stored."""

    public_key: bytes
    share_set: int
    threshold: int
    shares: tuple[str, ...]
    share_digests: tuple[str, ...]
    test_phrase: str
    test_ballot: bytes


@dataclass(frozen=True)
class ShareInfo:
    number: int  # 1..n, as printed on the sheet
    threshold: int
    share_set: int
    mnemonic: str


def check_threshold(threshold: int, share_count: int) -> None:
    """SLIP-39's own rules: 1..16 shares, a threshold of 1..n, and 1-of-n only as 1-of-1."""
    if not 1 <= share_count <= MAX_SHARES:
        raise ValueError("share_count")
    if not 1 <= threshold <= share_count:
        raise ValueError("threshold")
    if threshold == 1 and share_count > 1:
        raise ValueError("threshold_one")


def _derive_private_key(master_secret: bytes) -> PrivateKey:
    return PrivateKey(blake2b(b"", digest_size=32, key=master_secret, person=KEY_PURPOSE, encoder=RawEncoder))


def share_digest(mnemonic: str) -> str:
    """Lets one share be checked alone; a share's 128 random bits cannot be found from it."""
    return hashlib.sha256(mnemonic.encode()).hexdigest()


def hold_ceremony(threshold: int, share_count: int) -> Ceremony:
    check_threshold(threshold, share_count)
    master_secret = secrets.token_bytes(MASTER_SECRET_BYTES)
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, share_count)], master_secret, b"", iteration_exponent=0)
    shares = tuple(groups[0])
    public_key = bytes(_derive_private_key(master_secret).public_key)
    test_phrase = "-".join(secrets.token_hex(2).upper() for _ in range(3))
    return Ceremony(
        public_key=public_key,
        share_set=shamir_mnemonic.Share.from_mnemonic(shares[0]).identifier,
        threshold=threshold,
        shares=shares,
        share_digests=tuple(share_digest(share) for share in shares),
        test_phrase=test_phrase,
        test_ballot=seal_test_ballot(public_key, test_phrase),
    )


def normalise_share(text: str) -> str:
    """The words as typed or scanned: any case, numbering and punctuation ignored, and the first
    four letters of a word are enough (SLIP-39 chose its words so that they are)."""
    words = []
    for position, token in enumerate(_WORD.findall(text.lower()), start=1):
        if token not in _WORDS:
            word = _BY_PREFIX.get(token[:4], "")
            if len(token) < 4 or not word.startswith(token):
                raise ShareError(UNKNOWN_WORD, position=position, word=token)
            token = word
        words.append(token)
    return " ".join(words)


def describe_share(text: str) -> ShareInfo:
    mnemonic = normalise_share(text)
    try:
        share = shamir_mnemonic.Share.from_mnemonic(mnemonic)
    except (shamir_mnemonic.MnemonicError, ValueError) as error:
        raise ShareError(BAD_SHARE) from error
    return ShareInfo(share.index + 1, share.member_threshold, share.identifier, mnemonic)


def rebuild_key(shares: list[ShareInfo], public_key: bytes) -> PrivateKey:
    """The private key from k shares, or a ShareError that says what is missing or wrong."""
    if not shares:
        raise ShareError(TOO_FEW, given=0, needed=None)
    needed = shares[0].threshold
    if any(s.share_set != shares[0].share_set or s.threshold != needed for s in shares):
        raise ShareError(OTHER_SET)
    seen = set()
    for share in shares:
        if share.number in seen:
            raise ShareError(DUPLICATE, number=share.number)
        seen.add(share.number)
    if len(shares) < needed:
        raise ShareError(TOO_FEW, given=len(shares), needed=needed)
    try:
        master_secret = shamir_mnemonic.combine_mnemonics([s.mnemonic for s in shares[:needed]])
    except (shamir_mnemonic.MnemonicError, ValueError) as error:
        raise ShareError(BAD_SHARE) from error
    private_key = _derive_private_key(master_secret)
    if bytes(private_key.public_key) != public_key:
        raise ShareError(WRONG_KEY)
    return private_key


def ballot_block(round_id: int, candidate_ids: tuple[int, ...], marks: tuple[str, ...], receipt_length: int) -> int:
    """One padded size for every ballot of a round: longer than the longest ballot it can hold
    (every candidate, each with the longest mark of the round's method), so a sealed ballot's
    length tells nothing."""
    longest_mark = max(marks, key=len) if marks else ""
    as_list = _plaintext(round_id, "X" * receipt_length, list(candidate_ids))
    as_marks = _plaintext(round_id, "X" * receipt_length, {str(cid): longest_mark for cid in candidate_ids})
    return -(-(max(len(as_list), len(as_marks)) + 1) // 64) * 64


def _plaintext(round_id: int, receipt: str, choices: object) -> bytes:
    """The round's id goes inside, so a ballot copied from another round under the same key is found out."""
    return json.dumps({"c": choices, "i": round_id, "r": receipt}, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def seal(public_key: bytes, round_id: int, receipt: str, choices: object, block: int) -> bytes:
    plaintext = _plaintext(round_id, receipt, choices)
    if len(plaintext) >= block:
        raise ValueError("a ballot longer than its round's block would reveal its size")
    return SealedBox(PublicKey(public_key)).encrypt(sodium_pad(plaintext, block))


def unseal(private_key: PrivateKey, sealed: bytes, round_id: int, block: int) -> tuple[str, object]:
    """(receipt, choices); a ValueError for anything that is not a ballot of this round sealed
    to this key: altered, padded wrongly, malformed or copied from another round."""
    try:
        padded = SealedBox(private_key).decrypt(bytes(sealed))
        if len(padded) != block:
            raise ValueError("a sealed ballot of the wrong size")
        data = json.loads(sodium_unpad(padded, block))
    except (CryptoError, ValueError, UnicodeDecodeError) as error:
        raise ValueError("a sealed ballot that does not open") from error
    if not isinstance(data, dict) or set(data) != {"c", "i", "r"} or data["i"] != round_id or not isinstance(data["r"], str):
        raise ValueError("a sealed ballot that is not one of this round's")
    return data["r"], data["c"]


TEST_ROUND = 0  # the test ballot belongs to no round


def seal_test_ballot(public_key: bytes, phrase: str) -> bytes:
    return seal(public_key, TEST_ROUND, phrase, "rehearsal", TEST_BALLOT_BLOCK)


def open_test_ballot(private_key: PrivateKey, sealed: bytes) -> str:
    phrase, _ = unseal(private_key, sealed, TEST_ROUND, TEST_BALLOT_BLOCK)
    return phrase

