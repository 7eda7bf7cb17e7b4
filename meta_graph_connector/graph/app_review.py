"""What Meta's App Review asks of an app that uses the addon's features: each
permission and feature to request, why the addon needs it (the text a
reviewer reads), and the screencast that shows it in Odoo
(https://developers.facebook.com/docs/app-review,
https://developers.facebook.com/docs/permissions).

Permission names are Meta's current ones (docs/meta-facts.md §3); the texts
are English, as Meta's reviewers read them.
"""

from dataclasses import dataclass

#: The addon's features, as an administrator enables them.
FEATURES = (
    "lead_ads",
    "page_comments",
    "messenger",
    "instagram_comments",
    "instagram_messages",
    "human_agent",
    "audiences",
    "conversions",
)

#: Permissions each feature needs (docs/meta-facts.md §3, §13).
FEATURE_PERMISSIONS = {
    "lead_ads": (
        "pages_show_list",
        "pages_manage_metadata",
        "pages_read_engagement",
        "pages_manage_ads",
        "leads_retrieval",
        "ads_management",
    ),
    "page_comments": (
        "pages_show_list",
        "pages_manage_metadata",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
    ),
    "messenger": (
        "pages_show_list",
        "pages_manage_metadata",
        "pages_read_engagement",
        "pages_messaging",
    ),
    "instagram_comments": (
        "pages_show_list",
        "pages_manage_metadata",
        "pages_read_engagement",
        "instagram_basic",
        "instagram_manage_comments",
    ),
    "instagram_messages": (
        "pages_show_list",
        "pages_manage_metadata",
        "pages_read_engagement",
        "instagram_basic",
        "instagram_manage_messages",
    ),
    "human_agent": ("pages_messaging",),
    "audiences": ("ads_management", "business_management"),
    "conversions": ("ads_management",),
}

#: Features of the app Meta reviews apart from permissions.
FEATURE_ACCESS = {
    "human_agent": ("Human Agent",),
}


@dataclass(frozen=True)
class Permission:
    """A permission, the reason the addon asks for it, where a reviewer sees
    that in Odoo, and the steps of its screencast."""

    name: str
    purpose: str
    where: str
    steps: tuple


_CONNECT = (
    "Log in to Odoo as an administrator; open CRM > Configuration > Meta > "
    "Connect to Meta and click 'Connect with Facebook'.",
    "In Facebook Login, choose the Page (and its Instagram account) and grant "
    "the permissions shown; Odoo lists the Page under Assets.",
)

#: The texts per permission; the schedules they name are placeholders
#: (``{lead_reconciliation}``), filled by :func:`permission_texts`.
PERMISSIONS = {
    "pages_show_list": Permission(
        "pages_show_list",
        "Lists the Facebook Pages the business manages, so the administrator "
        "picks the Pages whose leads, comments and messages come to Odoo.",
        "CRM > Configuration > Meta > Connections > a connection > Assets.",
        (*_CONNECT, "Show the Page in the connection's Assets tab."),
    ),
    "pages_manage_metadata": Permission(
        "pages_manage_metadata",
        "Subscribes the app to the Page's webhooks (leadgen, feed, messages), "
        "so leads, comments and messages reach Odoo within seconds, and checks "
        "{subscription_check} that the subscription is still in place.",
        "CRM > Configuration > Meta > Assets > the Page: 'Events Received Live'.",
        (
            *_CONNECT,
            "Open the Page under Assets: the subscribed webhook fields are "
            "listed under 'Events Received Live'.",
        ),
    ),
    "pages_read_engagement": Permission(
        "pages_read_engagement",
        "Reads the Page's posts and the names of the people who engage with "
        "them, to show each comment with its post on the customer's record.",
        "CRM > Sales > Social Comments.",
        (
            *_CONNECT,
            "Comment on a post of the Page from a test user's account.",
            "In Odoo, open CRM > Sales > Social Comments: the comment and its "
            "post appear.",
        ),
    ),
    "pages_read_user_content": Permission(
        "pages_read_user_content",
        "Reads the comments people write on the Page's posts, so that a "
        "salesperson sees a customer's question on their record and answers "
        "it.",
        "CRM > Sales > Social Comments > a comment.",
        (
            *_CONNECT,
            "Comment on a post of the Page from a test user's account.",
            "Open the comment in Odoo: its text, its author and the customer "
            "record it is linked to.",
        ),
    ),
    "pages_manage_engagement": Permission(
        "pages_manage_engagement",
        "Lets a salesperson answer a comment as the Page, hide an abusive one, "
        "or delete the Page's own reply, from the customer's record in Odoo.",
        "CRM > Sales > Social Comments > a comment: Reply, Hide, Delete.",
        (
            *_CONNECT,
            "Open a comment in Odoo and click Reply; type an answer and send.",
            "Show the reply under the post on Facebook.",
            "Click Hide on a comment and show it hidden on Facebook.",
        ),
    ),
    "pages_manage_ads": Permission(
        "pages_manage_ads",
        "Reads the Page's Lead Ads forms (their questions), so that every "
        "answer of a lead is mapped to the right field of the CRM lead.",
        "CRM > Configuration > Meta > Lead Forms.",
        (
            *_CONNECT,
            "Open CRM > Configuration > Meta > Lead Forms: the Page's forms "
            "and their questions.",
        ),
    ),
    "leads_retrieval": Permission(
        "leads_retrieval",
        "Retrieves each lead submitted through the Page's Lead Ads forms and "
        "creates the CRM lead, assigned to a salesperson within seconds; a "
        "reconciliation {lead_reconciliation} reads any lead a webhook missed.",
        "CRM > Sales > My Pipeline: the new lead and its Meta tab.",
        (
            *_CONNECT,
            "Submit the Page's lead form with the Lead Ads Testing Tool "
            "(developers.facebook.com/tools/lead-ads-testing).",
            "In Odoo, open CRM > Sales > My Pipeline: the lead appears with "
            "the form's answers in its Meta tab.",
        ),
    ),
    "ads_management": Permission(
        "ads_management",
        "Reads the ad, ad set and campaign a lead came from (for attribution), "
        "keeps the business's Custom Audiences in step with CRM segments of "
        "consenting customers (hashed), and sends CRM stage changes to the "
        "Conversions API for CRM.",
        "CRM > Configuration > Meta > Audiences; a lead's Meta tab.",
        (
            *_CONNECT,
            "Open CRM > Configuration > Meta > Audiences, create an audience "
            "from a customer segment and click Sync: the audience appears in "
            "Ads Manager with its size.",
            "Open a lead from an ad: its ad, ad set and campaign in the Meta tab.",
        ),
    ),
    "business_management": Permission(
        "business_management",
        "Lists the Pages, ad accounts and datasets the business owns in its "
        "Business Manager, so the administrator connects them to Odoo.",
        "CRM > Configuration > Meta > Connections > a connection > Assets.",
        (*_CONNECT, "Show the ad accounts and datasets under Assets."),
    ),
    "pages_messaging": Permission(
        "pages_messaging",
        "Receives the Page's Messenger conversations in Odoo's Discuss and "
        "sends the agents' answers, within Meta's messaging window, so that a "
        "customer's whole history stays on their record.",
        "Discuss > Messenger; CRM > Sales > Conversations.",
        (
            *_CONNECT,
            "From a test user's Messenger, write to the Page.",
            "In Odoo, open Discuss: the conversation under Messenger; answer it.",
            "Show the answer in the test user's Messenger, then the 'Read' "
            "state on the message in Odoo.",
        ),
    ),
    "instagram_basic": Permission(
        "instagram_basic",
        "Reads the Instagram professional account linked to the Page and its "
        "media, to show comments, mentions and messages with what they are "
        "about.",
        "CRM > Configuration > Meta > Assets: the Instagram account.",
        (*_CONNECT, "Show the Instagram account under the Page's Assets."),
    ),
    "instagram_manage_comments": Permission(
        "instagram_manage_comments",
        "Reads the comments and @mentions on the Instagram account's media and "
        "lets a salesperson answer, hide or delete them from Odoo.",
        "CRM > Sales > Social Comments (Instagram).",
        (
            *_CONNECT,
            "Comment on a post of the Instagram account from a test account.",
            "In Odoo, open the comment under Social Comments and reply.",
        ),
    ),
    "instagram_manage_messages": Permission(
        "instagram_manage_messages",
        "Receives the Instagram account's Direct messages in Odoo's Discuss "
        "and sends the agents' answers within Meta's messaging window.",
        "Discuss > Instagram.",
        (
            *_CONNECT,
            "From a test account, send the Instagram account a Direct message.",
            "In Odoo, open Discuss: the conversation under Instagram; answer it.",
        ),
    ),
}

#: The scheduled work the texts name ({name} in a text): filled with the
#: interval its cron really runs at (:func:`permission_texts`).
SCHEDULES = ("lead_reconciliation", "subscription_check")


def every(number, unit):
    """A cron's interval in words: ``every 15 minutes``, ``every day``
    (``unit``: Odoo's interval types, ``minutes`` … ``months``)."""
    singular = unit[:-1] if unit.endswith("s") else unit
    return f"every {singular}" if number == 1 else f"every {number} {singular}s"


def permission_texts(schedules):
    """PERMISSIONS with the schedules they name in words: ``schedules`` maps
    a name of :data:`SCHEDULES` to its cron's (number, unit); one not given
    (its cron is gone or off) is said ``regularly``."""
    words = {name: "regularly" for name in SCHEDULES}
    words.update({name: every(*interval) for name, interval in schedules.items()})
    return {
        name: Permission(
            permission.name,
            permission.purpose.format(**words),
            permission.where.format(**words),
            tuple(step.format(**words) for step in permission.steps),
        )
        for name, permission in PERMISSIONS.items()
    }


#: Meta's reviewers log in as a test user: what they are told (English).
TEST_USER_INSTRUCTIONS = (
    "1. Open the Odoo address given in the submission and log in with the "
    "test login and password given there (an Odoo administrator of a test "
    "database with the Meta Graph Connector installed).\n"
    "2. The test database is connected to the app's test Page and Instagram "
    "account; the reviewer's Facebook test user has a role on the app.\n"
    "3. Follow each permission's screencast steps below; every screen named "
    "is in the Odoo menu CRM or Discuss.\n"
    "4. Lead Ads can be tested with Meta's Lead Ads Testing Tool on the test "
    "Page's form."
)


@dataclass(frozen=True)
class Requirement:
    """A permission or an app feature the enabled features need."""

    kind: str  # "permission" or "feature"
    name: str
    needed_by: tuple


def requirements(features):
    """What the app must have for ``features``, permissions first, each once,
    with the features needing it."""
    features = [f for f in FEATURES if f in set(features)]
    found = {}
    for feature in features:
        for name in FEATURE_PERMISSIONS[feature]:
            found.setdefault(("permission", name), []).append(feature)
        for name in FEATURE_ACCESS.get(feature, ()):
            found.setdefault(("feature", name), []).append(feature)
    if found:
        # serving people without a role on the app (any real customer)
        for name in ("Advanced Access", "Business Verification"):
            found.setdefault(("feature", name), []).extend(features)
    return [
        Requirement(kind, name, tuple(needed))
        for (kind, name), needed in sorted(
            found.items(), key=lambda item: (item[0][0] != "permission", item[0][1])
        )
    ]
