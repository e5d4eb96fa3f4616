"""A password hasher for the lockout race tests: the MD5 hasher the test settings use, except that
checking the password ``GATED`` waits until the test opens the gate — so a sign-in can be held
exactly between reading the account and counting its result, where a slow real hasher sits."""

import threading

from django.contrib.auth.hashers import MD5PasswordHasher

GATED: set[str] = set()
encoded: list[str] = []  # every password hashed afresh (make_password), in order
reached = threading.Event()
gate = threading.Event()


class GatedMD5PasswordHasher(MD5PasswordHasher):
    algorithm = "md5"

    def encode(self, password, salt):
        encoded.append(password)
        return super().encode(password, salt)

    def verify(self, password, encoded_password):
        if password in GATED:
            reached.set()
            assert gate.wait(timeout=30), "the test never opened the gate"
        return super().verify(password, encoded_password)


def arm(password: str) -> None:
    GATED.clear()
    GATED.add(password)
    reached.clear()
    gate.clear()


def disarm() -> None:
    GATED.clear()
    gate.set()
