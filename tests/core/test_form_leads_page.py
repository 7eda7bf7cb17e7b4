"""A form's leads a Graph page at a time (the reconciliation's one step)."""

from graph import api


def test_form_leads_page_by_page_in_the_window(sim, page, page_client):
    form = sim.add_form(page["id"])
    now = int(sim.clock.now())
    too_old = sim.add_lead(form["id"], created_time=now - 7200)
    inside = [
        sim.add_lead(form["id"], created_time=now - 3000 + minute * 60)
        for minute in range(5)
    ]
    above = sim.add_lead(form["id"], created_time=now - 60)
    window = {"since": now - 3600, "until": now - 600, "limit": 2}
    read, after, pages = [], None, 0
    while True:
        leads, after = api.form_leads_page(
            page_client, form["id"], after=after, **window
        )
        pages += 1
        assert len(leads) <= 2
        read.extend(leads)
        if not after:
            break
    assert pages == 3
    ids = [lead["id"] for lead in read]
    assert ids == [lead["id"] for lead in reversed(inside)], "newest first, once"
    assert too_old["id"] not in ids
    assert above["id"] not in ids


def test_form_leads_page_of_an_empty_form(sim, page, page_client):
    form = sim.add_form(page["id"])
    assert api.form_leads_page(page_client, form["id"]) == ([], None)
