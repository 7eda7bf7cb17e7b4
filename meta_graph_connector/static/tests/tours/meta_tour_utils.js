/** @odoo-module **/
// What the tours showing Meta's content share.

/**
 * Meta's content (a customer's name, a message, a comment) is shown as text:
 * the test data's script would set window.__metaXss if it ran, its markup
 * would leave an <img src="x"> or an .o_meta_injected element if inserted.
 */
export function assertNoInjection() {
    if (window.__metaXss) {
        throw new Error("Meta content ran as HTML");
    }
    if (document.querySelector("img[src='x'], .o_meta_injected")) {
        throw new Error("Meta content was inserted as HTML");
    }
}

/**
 * The composer's send button, in a given state (":enabled"): a button of its
 * own on Odoo 18.0, the composer's "send-message" action on 19.0.
 */
export function composerSend(state = "") {
    return `.o-mail-Composer-send${state}, .o-mail-Composer button[name='send-message']${state}`;
}
