import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from individuals import personal_data
from individuals.models import Individual
from individuals.services import individual_create, individual_update

from .factories import IndividualFactory

pytestmark = pytest.mark.django_db
SSN = "123-45-6789"


def _raw(pk, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM individuals_individual WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_personal_data_is_encrypted_at_rest(agency_admin):
    person = individual_create(
        actor=agency_admin,
        data={
            "first_name": "A",
            "last_name": "B",
            "ssn": SSN,
            "medicare_beneficiary_id": "1EG4-TE5-MK73",
            "drivers_license": "d-1234567",
        },
    )
    for kind, clear in (("ssn", "123456789"), ("medicare_beneficiary_id", "1EG4TE5MK73"), ("drivers_license", "D1234567")):
        stored = _raw(person.pk, f"{kind}_encrypted")
        assert stored and clear not in stored and clear[-4:] not in stored
        assert _raw(person.pk, f"{kind}_hash") != clear and len(_raw(person.pk, f"{kind}_hash")) == 64
        assert personal_data.reveal(Individual.objects.get(pk=person.pk), kind) == clear
    # Nothing in the row holds the clear SSN.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM individuals_individual WHERE id = %s", [person.pk])
        assert not any("123456789" in str(v) or SSN in str(v) for v in cursor.fetchone())


def test_hash_is_keyed_and_normalised(settings):
    assert personal_data.hash_value("ssn", SSN) == personal_data.hash_value("ssn", " 123 45 6789 ")
    assert personal_data.hash_value("ssn", SSN) != personal_data.hash_value("drivers_license", "123456789")
    before = personal_data.hash_value("ssn", SSN)
    settings.PERSONAL_DATA_HASH_KEY = "another-key"
    assert personal_data.hash_value("ssn", SSN) != before


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("ssn", "123-45-678"),
        ("ssn", "000-12-3456"),
        ("ssn", "666-12-3456"),
        ("ssn", "123-00-4567"),
        ("ssn", "abc-de-fghi"),
        ("medicare_beneficiary_id", "1SG4-TE5-MK73"),
        ("medicare_beneficiary_id", "0EG4TE5MK73"),
        ("drivers_license", "D1"),
        ("drivers_license", "D123 4567 !"),
    ],
)
def test_malformed_values_are_refused_and_nothing_is_written(agency_admin, kind, value):
    with pytest.raises(ValidationError) as exc:
        individual_create(actor=agency_admin, data={"first_name": "A", "last_name": "B", kind: value})
    assert kind in exc.value.message_dict
    assert not Individual.objects.exists()


def test_masking():
    person = IndividualFactory(ssn=SSN, medicare_beneficiary_id="1EG4TE5MK73", drivers_license="D1234567")
    assert personal_data.masked(person, "ssn") == "***-**-6789"
    assert personal_data.masked(person, "medicare_beneficiary_id") == "****MK73"
    assert personal_data.masked(person, "drivers_license") == "****4567"
    assert str(person) == f"{person.first_name} {person.last_name}"


def test_update_audit_names_the_field_but_not_the_value(agency_admin):
    from accounts.models import AuditLog

    person = IndividualFactory()
    individual_update(actor=agency_admin, individual=person, data={"ssn": SSN})
    row = AuditLog.objects.get(action="update", object_id=str(person.pk))
    assert "ssn" in row.summary and "6789" not in row.summary + str(row.data)


def test_dev_key_is_generated_into_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PERSONAL_DATA_KEYS = []
    settings.PERSONAL_DATA_HASH_KEY = ""
    token = personal_data.encrypt("123456789")
    assert (tmp_path / "personal-data.key").exists() and (tmp_path / "personal-data-hash.key").exists() is False
    personal_data.hash_value("ssn", SSN)
    assert (tmp_path / "personal-data-hash.key").exists()
    assert personal_data.decrypt(token) == "123456789"  # the same key is read back


def test_key_rotation_reencrypts_in_chunks_and_resumes(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    old = Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [old]
    people = [IndividualFactory(ssn=SSN, drivers_license="D1234567") for _ in range(5)]
    IndividualFactory()  # no personal data
    hashes = {p.pk: p.ssn_hash for p in people}

    new = Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [new, old]
    call_command("rotate_personal_data_keys", "--chunk", "2")
    new_only = Fernet(new.encode())
    for person in Individual.objects.filter(pk__in=hashes):
        assert new_only.decrypt(person.ssn_encrypted.encode()) == b"123456789"
        assert new_only.decrypt(person.drivers_license_encrypted.encode()) == b"D1234567"
        assert person.ssn_hash == hashes[person.pk]
    settings.PERSONAL_DATA_KEYS = [new]  # old key dropped: everything still readable
    assert all(personal_data.reveal(p, "ssn") == "123456789" for p in Individual.objects.filter(pk__in=hashes))
    assert "Done: 5 individuals re-encrypted" in capsys.readouterr().out


def test_key_rotation_resumes_from_saved_progress(settings, tmp_path, capsys):
    from individuals.management.commands.rotate_personal_data_keys import _progress_path

    settings.VAR_DIR = tmp_path
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [old]
    people = [IndividualFactory(ssn=SSN) for _ in range(4)]
    settings.PERSONAL_DATA_KEYS = [new, old]
    # given: a previous run stopped after the second individual
    _progress_path(new).write_text(f'{{"after_pk": {people[1].pk}}}')
    call_command("rotate_personal_data_keys")
    assert "Resuming after id" in capsys.readouterr().out
    on_new = [personal_data.is_on_primary_key(Individual.objects.get(pk=p.pk).ssn_encrypted) for p in people]
    assert on_new == [False, False, True, True]
    assert not _progress_path(new).exists()
    call_command("rotate_personal_data_keys")  # a later full run finishes the rest and skips the done ones
    assert all(personal_data.is_on_primary_key(Individual.objects.get(pk=p.pk).ssn_encrypted) for p in people)
