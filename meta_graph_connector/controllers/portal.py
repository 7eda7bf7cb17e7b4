from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

#: The version of the texts the portal page shows (its template): kept with
#: each decision taken there, and changed whenever those texts change.
PORTAL_NOTICE_VERSION = "portal-2026-12"


class MetaConsentPortal(CustomerPortal):
    """The person's own Meta consent, in their portal: given and withdrawn
    as easily (GDPR Art. 7(3); KVKK Art. 5 and 9), each decision kept as
    evidence with the text it answered."""

    # website: the portal's frontend (its layout, the visitor's language)
    @http.route(
        "/my/privacy/meta", type="http", auth="user", website=True, methods=["GET"]
    )
    def meta_consent(self, saved=None, **_kw):
        partner = request.env.user.partner_id
        values = self._prepare_portal_layout_values()
        values.update(
            page_name="meta_consent",
            partner=partner,
            states=partner._meta_consent_states()[partner.id],
            saved=bool(saved),
        )
        return request.render("meta_graph_connector.portal_meta_consent", values)

    @http.route(
        "/my/privacy/meta",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
        csrf=True,
    )
    def meta_consent_save(self, **post):
        partner = request.env.user.partner_id
        states = partner._meta_consent_states()[partner.id]
        evidence = {
            "notice_version": PORTAL_NOTICE_VERSION,
            "evidence": request.env._(
                "Decided on the portal page %(page)s by %(user)s.",
                page="/my/privacy/meta",
                user=request.env.user.login,
            ),
        }
        objection = post.get("objection") == "1"
        for purpose in ("audiences", "measurement"):
            wanted = post.get(purpose) == "granted" and not (
                objection and purpose == "audiences"
            )
            # only a change is a decision: saving the page again adds nothing
            if wanted and states[purpose] != "granted":
                partner._meta_record_consent(purpose, True, "portal", **evidence)
            elif not wanted and states[purpose] == "granted":
                partner._meta_record_consent(
                    purpose,
                    False,
                    "portal",
                    objection=objection and purpose == "audiences",
                    **evidence,
                )
            elif objection and purpose == "audiences":
                # an objection of someone who never consented still keeps
                # them from ever being sent
                partner._meta_record_consent(
                    purpose, False, "portal", objection=True, **evidence
                )
        return request.redirect("/my/privacy/meta?saved=1")
