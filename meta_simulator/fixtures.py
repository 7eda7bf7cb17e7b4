"""Ready-made states for demos and benchmarks."""

from .models import ALL_SCOPES, SYSTEM_USER

DEMO_VERIFY_TOKEN = "sim_verify_token"


def demo(sim, *, leads_per_form: int = 12) -> dict:
    """A Page with an IG account, a system-user token with every scope, a
    person managing the Page logged in for the Login dialog, two forms with
    leads and the Page subscribed to the usual webhook fields.

    Returns (and stores in ``sim.fixture``) the ids and tokens as one dict:
    the line ``python -m meta_simulator --fixture demo`` prints.
    """
    page = sim.add_page("Odoo Demo Mağaza", ig_account_id=True, username="odoodemo")
    token = sim.add_user_token(
        scopes=list(ALL_SCOPES),
        pages=[page["id"]],
        token_type=SYSTEM_USER,
        user_name="Odoo Sistem Kullanıcısı",
    )
    # The person who clicks "Connect with Facebook": logged in, manages the Page.
    person = sim.add_person("Ayşe Yılmaz", pages=[page["id"]], login=True)
    quote = sim.add_form(page["id"], "Kurumsal Teklif Formu")
    newsletter = sim.add_form(
        page["id"],
        "Bülten Kaydı",
        questions=[
            {"key": "first_name", "label": "Adınız", "type": "FIRST_NAME"},
            {"key": "last_name", "label": "Soyadınız", "type": "LAST_NAME"},
            {"key": "email", "label": "E-posta", "type": "EMAIL"},
            {"key": "phone_number", "label": "Cep telefonu", "type": "PHONE"},
        ],
    )
    lead_ids = []
    for form in (quote, newsletter):
        created = sim.add_leads(form["id"], leads_per_form)
        lead_ids.extend(lead["id"] for lead in created)
    sim.set_subscription(
        page["id"],
        [
            "leadgen",
            "feed",
            "messages",
            "messaging_postbacks",
            "message_echoes",
            "message_reads",
            "message_deliveries",
        ],
    )
    info = {
        "base_url": sim.base_url,
        "graph_version": "v26.0",
        "app_id": sim.app_id,
        "app_secret": sim.app_secret,
        "verify_token": DEMO_VERIFY_TOKEN,
        "system_user_token": token,
        "page_id": page["id"],
        "page_name": page["name"],
        "page_token": sim.page_token(token, page["id"]),
        "person_id": person["id"],
        "ig_account_id": page["ig_account_id"],
        "ig_username": page["instagram_business_account"]["username"],
        "form_ids": [quote["id"], newsletter["id"]],
        "lead_ids": lead_ids,
    }
    sim.fixture = info
    return info
