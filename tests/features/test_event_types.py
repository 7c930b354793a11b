"""A page's URLs read as one event type; every other name as written."""

from __future__ import annotations

import pytest

from features.event_types import feature_type, page_path, page_template


@pytest.mark.parametrize(
    ("event_type", "template"),
    [
        ("/projects/4812/board", "/projects/{id}/board"),
        ("/projects/4812/board/", "/projects/{id}/board"),
        ("/reports/7f3a9c21-1b2c-4d5e-8f90-123456789abc", "/reports/{id}"),
        ("/customers/cus_J8s9dk3LmQ/invoices", "/customers/{id}/invoices"),
        ("https://app.acme.io/search?q=churn+risk", "https://app.acme.io/search"),
        ("https://app.acme.io/#/projects/12?tab=2", "https://app.acme.io/#/projects/{id}"),
        ("https://help.acme.io/articles/360012345-Getting-started#step-2", "https://help.acme.io/articles/{id}"),
        ("/caf%C3%A9/menu", "/café/menu"),
        ("Viewed /projects/12 page", "Viewed /projects/{id} page"),
        ("/", "/"),
        # names that are not URLs keep their numbers: onboarding steps, versions, and slashes inside words
        ("Step 2 Completed", "Step 2 Completed"),
        ("export_v2", "export_v2"),
        ("Report 2024/10 exported", "Report 2024/10 exported"),
        ("Q4 2024 review", "Q4 2024 review"),
        ("utf8_export", "utf8_export"),
        # a word of a name that can be nothing but a record's id: five digits or more, a UUID, a long hex id
        ("Viewed Project 48213", "Viewed Project {id}"),
        ("opened_doc_7f3a9c21-1b2c-4d5e-8f90-123456789abc", "opened_doc_{id}"),
        ("click #btn-8c2f1a9b", "click #btn-{id}"),
        ("dashboard_5f2b9c0e8d1a4b3c2d1e0f9a_viewed", "dashboard_{id}_viewed"),
        ("Viewed Project 48213 at /projects/48213", "Viewed Project {id} at /projects/{id}"),
        ("deadbeef_flag", "deadbeef_flag"),  # hex letters without a digit: a word
    ],
)
def test_a_url_reads_as_its_page(event_type, template):
    assert page_template(event_type) == template


def test_urls_of_one_page_share_a_feature_type_and_a_route():
    assert feature_type("/projects/1/board") == feature_type("/projects/2/board?x=1") == "projects_id_board"
    assert feature_type("https://app.acme.io/login") != feature_type("/login")  # hosts are kept apart
    assert page_path("https://app.acme.io/login?next=/") == page_path("https://app.acme.io/#!/login") == "/login"
    assert page_path("Signed In") is None and page_path("Viewed /login") is None
