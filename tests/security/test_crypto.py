"""SM4 encryption at rest, blind indexes, key rotation, and the encrypted model field.

The ``KeyRing`` tests need no Django. The ``get_keyring`` and field tests use the project's test
settings under pytest-django, and a minimal in-memory setup when run with ``-p no:django``.
"""

import base64
import contextlib
import stat
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection, models
from django.db.models.functions import Cast
from django.test.utils import isolate_apps, override_settings

from xinfang.security import crypto
from xinfang.security.crypto import DecryptionError, KeyFileError, KeyRing
from xinfang.security.fields import EncryptedTextField


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "xinfang-keys.json"


@pytest.fixture
def ring(key_file: Path) -> KeyRing:
    return KeyRing.create(key_file)


def _flip_payload_byte(token: str, index: int) -> str:
    scheme, key_id, payload = token.split(":")
    raw = bytearray(base64.b64decode(payload))
    raw[index] ^= 0x01
    return f"{scheme}:{key_id}:{base64.b64encode(bytes(raw)).decode()}"


# -- key file -----------------------------------------------------------------------------------


def test_create_writes_a_key_file_only_its_owner_can_read(key_file):
    KeyRing.create(key_file)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700


def test_create_refuses_to_overwrite_an_existing_key_file(ring, key_file):
    before = key_file.read_bytes()

    with pytest.raises(FileExistsError):
        KeyRing.create(key_file)

    assert key_file.read_bytes() == before
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]  # no temp file left


def test_load_reads_back_what_create_wrote(ring, key_file):
    token = ring.encrypt("河南省许昌市建安区")

    loaded = KeyRing.load(key_file)

    assert loaded.decrypt(token) == "河南省许昌市建安区"
    assert loaded.blind_index("13812345678", purpose="phone") == ring.blind_index(
        "13812345678", purpose="phone"
    )


def test_load_refuses_a_key_file_other_users_can_read(ring, key_file):
    key_file.chmod(0o640)

    with pytest.raises(KeyFileError, match="chmod 600"):
        KeyRing.load(key_file)


@pytest.mark.parametrize(
    "content",
    ["not json", "{}", '{"format": "xinfang-keyring", "version": 1, "data_keys": []}'],
)
def test_load_rejects_a_malformed_key_file(key_file, content):
    key_file.parent.mkdir(parents=True)
    key_file.write_text(content)
    key_file.chmod(0o600)

    with pytest.raises(KeyFileError, match="malformed"):
        KeyRing.load(key_file)


def test_load_of_a_missing_file_says_how_to_create_one(key_file):
    with pytest.raises(KeyFileError, match="xinfang keys create"):
        KeyRing.load(key_file)


def test_repr_never_shows_key_material(ring):
    text = repr(ring)

    assert "k1" in text
    assert base64.b64encode(ring._state.data_keys["k1"]).decode() not in text


# -- encryption ---------------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["410102199001011234", "张三明", "", "a" * 5000])
def test_encrypt_then_decrypt_gives_back_the_plaintext(ring, plaintext):
    token = ring.encrypt(plaintext)

    assert token.startswith("sm4gcm:k1:")
    assert plaintext not in token or plaintext == ""
    assert ring.decrypt(token) == plaintext


def test_the_same_value_encrypts_differently_each_time(ring):
    assert ring.encrypt("13812345678") != ring.encrypt("13812345678")


@pytest.mark.parametrize("index", [0, 12, 20, -1])  # nonce, ciphertext, ciphertext, tag
def test_a_flipped_byte_is_refused(ring, index):
    token = _flip_payload_byte(ring.encrypt("410102199001011234"), index)

    with pytest.raises(DecryptionError, match="tampered"):
        ring.decrypt(token)


def test_a_token_relabelled_to_another_key_is_refused(ring):
    token = ring.encrypt("13812345678")
    ring.add_key()

    with pytest.raises(DecryptionError, match="tampered"):
        ring.decrypt(token.replace("sm4gcm:k1:", "sm4gcm:k2:"))


def test_a_token_under_an_unknown_key_is_refused(ring):
    token = ring.encrypt("13812345678").replace("sm4gcm:k1:", "sm4gcm:k9:")

    with pytest.raises(DecryptionError, match="Unknown key id 'k9'"):
        ring.decrypt(token)


def test_a_token_from_another_installation_is_refused(ring):
    other = KeyRing.generate()

    with pytest.raises(DecryptionError):
        ring.decrypt(other.encrypt("13812345678"))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "13812345678",
        "sm4gcm:k1:",
        "sm4gcm::AAAA",
        "aes:k1:AAAA",
        "sm4gcm:k1:!!!!",
        "sm4gcm:k1:AA==",
    ],
)
def test_malformed_tokens_raise_decryption_error(ring, token):
    with pytest.raises(DecryptionError):
        ring.decrypt(token)


# -- rotation -----------------------------------------------------------------------------------


def test_rotation_keeps_old_tokens_readable_and_reencrypts_them_under_the_new_key(ring, key_file):
    # given a value stored under k1
    old_token = ring.encrypt("410102199001011234")

    # when k2 is added
    new_id = ring.add_key()

    # then k2 is current, the old token still decrypts and is flagged for rotation
    assert new_id == "k2"
    assert ring.current_key_id == "k2"
    assert ring.key_ids == ["k1", "k2"]
    assert ring.decrypt(old_token) == "410102199001011234"
    assert ring.needs_rotation(old_token) is True
    new_token = ring.reencrypt(old_token)
    assert new_token.startswith("sm4gcm:k2:")
    assert ring.needs_rotation(new_token) is False
    assert ring.reencrypt(new_token) == new_token
    assert ring.decrypt(new_token) == "410102199001011234"
    # and the file on disk holds both keys, still private
    reloaded = KeyRing.load(key_file)
    assert reloaded.current_key_id == "k2"
    assert reloaded.decrypt(old_token) == reloaded.decrypt(new_token) == "410102199001011234"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_key_that_could_not_be_saved_is_never_used(ring, key_file, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(crypto, "_write_file", disk_full)

    with pytest.raises(OSError):
        ring.add_key()

    assert ring.current_key_id == "k1"
    assert ring.encrypt("x").startswith("sm4gcm:k1:")


def test_an_old_key_can_be_removed_once_nothing_uses_it(ring, key_file):
    old_token = ring.encrypt("x")
    ring.add_key()
    token = ring.reencrypt(old_token)

    ring.remove_key("k1")

    assert KeyRing.load(key_file).key_ids == ["k2"]
    assert ring.decrypt(token) == "x"


def test_the_current_key_cannot_be_removed(ring):
    with pytest.raises(KeyFileError, match="current key"):
        ring.remove_key("k1")


def test_rotation_does_not_change_blind_indexes(ring):
    before = ring.blind_index("410102199001011234", purpose="id_number")

    ring.add_key()

    assert ring.blind_index("410102199001011234", purpose="id_number") == before


def test_a_process_with_an_older_copy_reads_tokens_under_a_key_added_elsewhere(key_file):
    worker = KeyRing.create(key_file)
    rotator = KeyRing.load(key_file)
    rotator.add_key()

    token = rotator.encrypt("13812345678")

    assert worker.decrypt(token) == "13812345678"
    assert worker.current_key_id == "k2"


# -- blind index --------------------------------------------------------------------------------


def test_blind_index_is_deterministic_hex_hmac_sm3(ring, key_file):
    first = ring.blind_index("410102199001011234", purpose="id_number")

    assert first == KeyRing.load(key_file).blind_index("410102199001011234", purpose="id_number")
    assert len(first) == 64
    assert int(first, 16) >= 0


def test_blind_index_separates_purposes_values_and_installations(ring):
    value = "13812345678"

    by_phone = ring.blind_index(value, purpose="phone")

    assert by_phone != ring.blind_index(value, purpose="id_number")
    assert by_phone != ring.blind_index("13812345679", purpose="phone")
    assert by_phone != KeyRing.generate().blind_index(value, purpose="phone")


@pytest.mark.parametrize("purpose", ["", "Phone", "id number", "phone/x"])
def test_blind_index_refuses_a_malformed_purpose(ring, purpose):
    with pytest.raises(ValueError):
        ring.blind_index("13812345678", purpose=purpose)


# -- get_keyring (Django settings) --------------------------------------------------------------


@pytest.fixture(scope="module")
def django_settings():
    """The project's test settings under pytest-django; a minimal setup without it."""
    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=[],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            USE_TZ=True,
        )
        django.setup()
    return settings


@pytest.fixture
def fresh_cache(django_settings):
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


def test_get_keyring_without_a_key_file_explains_how_to_create_one(fresh_cache, key_file):
    with override_settings(XINFANG_KEY_FILE=key_file, XINFANG_KEY_AUTOCREATE=False):
        with pytest.raises(ImproperlyConfigured, match="xinfang keys create"):
            crypto.get_keyring()

    assert not key_file.exists()


def test_get_keyring_creates_the_key_file_when_autocreate_is_on(fresh_cache, key_file):
    with override_settings(XINFANG_KEY_FILE=key_file, XINFANG_KEY_AUTOCREATE=True):
        keyring = crypto.get_keyring()

        assert crypto.get_keyring() is keyring
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert KeyRing.load(key_file).decrypt(keyring.encrypt("x")) == "x"


def test_get_keyring_loads_an_existing_file_and_notices_rotation(
    fresh_cache, ring, key_file, monkeypatch
):
    monkeypatch.setattr(crypto, "REFRESH_SECONDS", 0.0)
    with override_settings(XINFANG_KEY_FILE=key_file, XINFANG_KEY_AUTOCREATE=False):
        cached = crypto.get_keyring()
        assert cached.current_key_id == "k1"

        KeyRing.load(key_file).add_key()  # another process rotates

        assert crypto.get_keyring() is cached
        assert cached.current_key_id == "k2"


def test_changing_the_setting_drops_the_cached_key_ring(fresh_cache, tmp_path):
    first, second = KeyRing.create(tmp_path / "a.json"), KeyRing.create(tmp_path / "b.json")

    with override_settings(XINFANG_KEY_FILE=first.path):
        token = crypto.get_keyring().encrypt("x")
    with override_settings(XINFANG_KEY_FILE=second.path):
        with pytest.raises(DecryptionError):
            crypto.get_keyring().decrypt(token)


# -- EncryptedTextField -------------------------------------------------------------------------


@pytest.fixture
def field_key(fresh_cache, key_file):
    with override_settings(XINFANG_KEY_FILE=key_file, XINFANG_KEY_AUTOCREATE=True):
        yield crypto.get_keyring()


@pytest.fixture(scope="module")
def secret_model(django_settings):
    # A registry of its own, holding only this model: nothing is added to the project's apps.
    with isolate_apps("tests.security"):

        class Secret(models.Model):
            value = EncryptedTextField("住址", blank=True, null=True)

            class Meta:
                app_label = "security"

            def __str__(self) -> str:
                return f"Secret {self.pk}"

    return Secret


@pytest.fixture
def secret_table(request, secret_model, field_key):
    """A table for ``Secret``, created and dropped outside any transaction (SQLite's schema editor
    refuses to run inside one). Under pytest-django: in the test database, access unblocked."""
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("django_db_setup")
        access = request.getfixturevalue("django_db_blocker").unblock()
    else:
        access = contextlib.nullcontext()
    with access:
        with connection.schema_editor() as editor:
            editor.create_model(secret_model)
        try:
            yield secret_model
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(secret_model)


def test_field_encrypts_on_write_and_decrypts_on_read(field_key):
    field = EncryptedTextField()

    stored = field.get_prep_value("河南省许昌市建安区椹涧乡陈庄村3组")

    assert stored.startswith("sm4gcm:k1:")
    assert field.from_db_value(stored, None, connection) == "河南省许昌市建安区椹涧乡陈庄村3组"


@pytest.mark.parametrize("empty", ["", None])
def test_field_keeps_empty_values_as_they_are(field_key, empty):
    field = EncryptedTextField()

    assert field.get_prep_value(empty) == empty
    assert field.from_db_value(empty, None, connection) == empty


def test_field_deconstructs_to_a_stable_path_and_its_own_arguments():
    field = EncryptedTextField("身份证号", blank=True)
    field.set_attributes_from_name("id_number")

    name, path, args, kwargs = field.deconstruct()

    assert (name, path, args) == ("id_number", "xinfang.security.fields.EncryptedTextField", [])
    assert kwargs == {"verbose_name": "身份证号", "blank": True}
    assert EncryptedTextField(*args, **kwargs).deconstruct()[1:] == (path, args, kwargs)


@pytest.mark.parametrize("lookup", ["value", "value__exact", "value__icontains", "value__in"])
def test_field_refuses_lookups_on_ciphertext(secret_model, lookup):
    with pytest.raises(FieldError, match="Unsupported lookup"):
        secret_model.objects.filter(**{lookup: ["x"] if lookup.endswith("in") else "x"})


def test_field_allows_isnull(secret_model):
    assert "IS NULL" in str(secret_model.objects.filter(value__isnull=True).query)


def test_field_round_trips_through_the_database_as_ciphertext(secret_table):
    # given
    saved = secret_table.objects.create(value="河南省许昌市建安区椹涧乡陈庄村3组")
    empty = secret_table.objects.create(value="")

    # when
    row = secret_table.objects.annotate(raw=Cast("value", models.TextField())).get(pk=saved.pk)

    # then
    assert row.value == "河南省许昌市建安区椹涧乡陈庄村3组"
    assert row.raw.startswith("sm4gcm:k1:") and "建安区" not in row.raw
    assert secret_table.objects.get(pk=empty.pk).value == ""
    assert list(secret_table.objects.values_list("value", flat=True).order_by("pk")) == [
        "河南省许昌市建安区椹涧乡陈庄村3组",
        "",
    ]
