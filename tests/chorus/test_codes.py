"""The enum of application codes says what the catalogue's migrations install, and the
system check says so when they part."""

from unittest import mock

from chorus import checks
from chorus.codes import ApplicationCode
from chorus.models import Application


def test_the_enum_agrees_with_the_catalogue():
    assert checks.check_application_codes() == []


def test_the_enum_agrees_with_the_catalogue_in_the_database(db):
    rows = dict(Application.objects.values_list("code", "url_name"))
    assert rows == {member.value: member.url_name for member in ApplicationCode}


def test_the_check_reports_a_code_with_another_url_name_or_missing():
    catalogue = checks.installed_catalogue()
    catalogue["APPROBATIONS"] = "approvals:elsewhere"
    catalogue["NOUVELLE_APPLICATION"] = ""
    del catalogue["DOCUMENTATION"]
    with mock.patch.object(checks, "installed_catalogue", return_value=catalogue):
        errors = checks.check_application_codes()
    assert sorted(error.id for error in errors) == ["chorus.E001", "chorus.E002", "chorus.E003"]
    assert any("NOUVELLE_APPLICATION" in error.msg for error in errors)
