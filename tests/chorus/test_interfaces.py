"""The access kernel reads the domain apps through chorus.interfaces only: the models
named by the settings, and what the apps register from their AppConfig.ready()."""

from approvals.selectors import pending_count_for
from chorus.interfaces import contributions, membership_model, structure_model
from structures.models import Structure
from users.models import Membership


def test_the_kernel_reads_the_structures_and_memberships_of_the_domain_apps():
    assert structure_model() is Structure
    assert membership_model() is Membership


def test_the_apps_register_what_they_add_to_every_page(db):
    assert contributions.pending_approvals is pending_count_for
    assert contributions.help_page_url([]) == ""
