from odoo import http
from odoo.http import request

from odoo.addons.mail.controllers.thread import ThreadController

from ..models.discuss_channel import posted_by_hand


class MetaThreadController(ThreadController):
    @http.route()
    def mail_message_post(
        self, thread_model, thread_id, post_data, context=None, **kwargs
    ):
        """Discuss's composer posts here: what a person typed by hand, the
        only message Meta's ``HUMAN_AGENT`` tag may carry. Said in the
        request's context (an object no RPC client can send), for this one
        conversation."""
        if thread_model == "discuss.channel" and isinstance(thread_id, int):
            request.update_context(**posted_by_hand(thread_id))
        return super().mail_message_post(
            thread_model, thread_id, post_data, context=context, **kwargs
        )
