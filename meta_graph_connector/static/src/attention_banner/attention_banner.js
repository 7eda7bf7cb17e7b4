/** @odoo-module **/
// The banner a Meta administrator sees on CRM's pipeline when a connection
// needs attention (token or data access about to expire, a permission or a
// webhook subscription lost, events failing). The server decides who sees
// it: meta.connection.get_attention_banner answers nothing to others.

import { Component, onWillStart, useState } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { KanbanController } from "@web/views/kanban/kanban_controller";

export class MetaAttentionBanner extends Component {
    static template = "meta_graph_connector.MetaAttentionBanner";
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ connections: [] });
        onWillStart(async () => {
            this.state.connections = await this.orm.call(
                "meta.connection",
                "get_attention_banner",
                []
            );
        });
    }

    open(connection) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "meta.connection",
            res_id: connection.id,
            views: [[false, "form"]],
        });
    }
}

patch(KanbanController, {
    components: { ...KanbanController.components, MetaAttentionBanner },
});
