/** @odoo-module **/
// New Meta leads, told to their salesperson as Odoo tells everything else:
// a toast that expires on its own (it stays while the pointer is on it), one
// per burst: a lead arriving while the toast is up joins it ("3 new Meta
// leads"), and its button opens the lead, or the leads of the burst.

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

export const metaLeadNotificationService = {
    dependencies: ["bus_service", "notification", "action"],

    start(env, { bus_service, notification, action }) {
        let burst = []; // the leads in the toast on screen
        let current = null; // {close} of that toast

        function open(leads) {
            if (leads.length === 1) {
                return action.doAction({
                    type: "ir.actions.act_window",
                    res_model: "crm.lead",
                    res_id: leads[0].lead_id,
                    views: [[false, "form"]],
                });
            }
            return action.doAction({
                type: "ir.actions.act_window",
                name: _t("New Meta leads"),
                res_model: "crm.lead",
                domain: [["id", "in", leads.map((lead) => lead.lead_id)]],
                views: [
                    [false, "list"],
                    [false, "form"],
                ],
            });
        }

        function show() {
            const leads = [...burst];
            const shown = {};
            const title =
                leads.length === 1
                    ? leads[0].title
                    : _t("%(count)s new Meta leads", { count: leads.length });
            // plain text: the notification escapes it (names come from Meta)
            const message = leads.map((lead) => lead.name).join(", ");
            shown.close = notification.add(message, {
                title,
                type: "info",
                className: "o_meta_lead_notification",
                buttons: [
                    {
                        name: leads.length === 1 ? _t("Open the lead") : _t("Open the leads"),
                        primary: true,
                        onClick: () => {
                            shown.close();
                            open(leads);
                        },
                    },
                ],
                onClose: () => {
                    if (current === shown) {
                        // expired or closed by the person: the next lead
                        // starts a new toast
                        current = null;
                        burst = [];
                    }
                },
            });
            current = shown;
        }

        bus_service.subscribe("meta_graph_connector/new_lead", (lead) => {
            if (current) {
                const replaced = current;
                current = null;
                replaced.close();
            }
            burst.push(lead);
            show();
        });
        bus_service.start();
    },
};

registry.category("services").add("meta_lead_notification", metaLeadNotificationService);
