"""What Meta's App Review asks for the enabled features."""

from graph import app_review, const


def test_every_permission_asked_has_its_text_and_screencast():
    asked = {p for scopes in app_review.FEATURE_PERMISSIONS.values() for p in scopes}
    assert asked == set(app_review.PERMISSIONS)
    for name, permission in app_review.PERMISSIONS.items():
        assert permission.name == name
        assert len(permission.purpose) > 60 and permission.where
        assert len(permission.steps) >= 2


def test_the_list_follows_the_features_enabled():
    only_leads = app_review.requirements(["lead_ads"])
    names = [r.name for r in only_leads if r.kind == "permission"]
    assert "leads_retrieval" in names and "pages_messaging" not in names
    assert [r.name for r in only_leads if r.kind == "feature"] == [
        "Advanced Access",
        "Business Verification",
    ]
    both = app_review.requirements(["messenger", "human_agent", "lead_ads"])
    by_name = {r.name: r for r in both}
    assert by_name["pages_messaging"].needed_by == ("messenger", "human_agent")
    assert by_name["Human Agent"].kind == "feature"
    assert by_name["pages_show_list"].needed_by == ("lead_ads", "messenger")
    kinds = [r.kind for r in both]
    assert kinds == sorted(kinds, key=lambda k: k != "permission"), "permissions first"
    assert app_review.requirements([]) == []
    assert app_review.requirements(["unknown"]) == []


def test_the_kit_asks_what_the_addon_checks_in_the_token():
    # every scope the health centre checks per feature is in the kit
    for scopes in const.FEATURE_SCOPES.values():
        assert set(scopes) <= set(app_review.PERMISSIONS)


def test_the_texts_say_how_often_the_crons_really_run():
    """The kit names the schedules of the addon's crons as they are set,
    never a frequency written once in a text."""
    texts = app_review.permission_texts(
        {"lead_reconciliation": (15, "minutes"), "subscription_check": (1, "days")}
    )
    leads = texts["leads_retrieval"].purpose
    assert "every 15 minutes" in leads and "daily" not in leads
    assert "every day" in texts["pages_manage_metadata"].purpose
    hourly = app_review.permission_texts({"lead_reconciliation": (1, "hours")})
    assert "every hour" in hourly["leads_retrieval"].purpose
    assert "regularly" in hourly["pages_manage_metadata"].purpose, "not known"
    assert app_review.every(2, "weeks") == "every 2 weeks"
    for permission in app_review.permission_texts({}).values():
        words = " ".join((permission.purpose, permission.where, *permission.steps))
        assert "{" not in words and "}" not in words
