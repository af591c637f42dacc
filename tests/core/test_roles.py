import pytest
from django.contrib.auth.models import Group
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_migrate_creates_the_agent_and_admin_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {"agents", "admins"}


def test_admins_may_manage_every_bookbag_model_and_agents_get_no_admin_rights():
    admins = Group.objects.get(name="admins")
    labels = set(admins.permissions.values_list("content_type__app_label", flat=True))

    assert {"integrations", "tickets", "notifications", "webhooks"} <= labels
    assert admins.permissions.filter(codename="change_endpoint").exists()
    assert not Group.objects.get(name="agents").permissions.exists()


def test_the_sweeper_backstop_schedule_exists_once():
    assert (
        Schedule.objects.filter(name="bookbag.sweep", func="bookbag.core.outbox.sweep").count() == 1
    )
