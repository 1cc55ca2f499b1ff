"""KMS envelope for secrets and buyer data: refresh tokens and addresses are encrypted before DynamoDB.

The encryption context binds a ciphertext to its record (store id, purpose): a ciphertext copied to another
record does not decrypt.
"""

from __future__ import annotations

from typing import Any, Protocol


class Cipher(Protocol):
    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str: ...


class KmsCipher:
    def __init__(self, kms_client: Any, key_id: str) -> None:
        self._kms = kms_client
        self._key_id = key_id

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        answer = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=context
        )
        return bytes(answer["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        answer = self._kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext=context, KeyId=self._key_id)
        return bytes(answer["Plaintext"]).decode()
