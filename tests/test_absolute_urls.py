"""Absolute URLs on SITE_URL: site paths, content and storage URLs, and every link of a fragment."""

import re

import pytest

from newsletter.absolute_urls import absolute_url, absolutize_urls, site_url
from newsletter.views import page_not_found

from .factories import make_issue

SITE = "https://news.example.org"
PAGE = f"{SITE}/issues/2/"


@pytest.fixture
def prefixed(settings):
    settings.SITE_URL = "https://example.org/newsletter"


# site_url: paths the site made


def test_a_site_path_goes_under_site_url():
    assert site_url("/issues/2/") == f"{SITE}/issues/2/"
    assert site_url("/") == f"{SITE}/"


def test_a_site_path_keeps_site_urls_path_prefix(prefixed):
    assert site_url("/issues/2/") == "https://example.org/newsletter/issues/2/"


def test_a_request_path_that_looks_protocol_relative_stays_on_the_site():
    # request.path of "GET //evil.example/x": the 404 page's canonical URL must not leave the site.
    assert site_url("//evil.example/x") == f"{SITE}//evil.example/x"


# absolute_url: URLs from content or storage


def test_a_root_relative_path_goes_under_site_url():
    assert absolute_url("/media/figures/x.jpg") == f"{SITE}/media/figures/x.jpg"
    assert absolute_url("/media/figures/x.jpg", PAGE) == f"{SITE}/media/figures/x.jpg"


def test_a_root_relative_path_keeps_site_urls_path_prefix(prefixed):
    # urljoin would drop "/newsletter"; the path is appended instead.
    assert absolute_url("/media/x.jpg") == "https://example.org/newsletter/media/x.jpg"
    assert absolute_url("/media/x.jpg", "https://example.org/newsletter/issues/2/") == (
        "https://example.org/newsletter/media/x.jpg"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://bucket.example-storage.com/figures/x.jpg?sig=a&b=c",
        "http://example.com/a",
        "mailto:editors@example.org?subject=Hello",
    ],
)
def test_an_absolute_url_stays_as_it_is(url):
    assert absolute_url(url) == url
    assert absolute_url(url, PAGE) == url


def test_a_protocol_relative_url_takes_the_scheme_of_the_base():
    assert absolute_url("//cdn.example.org/x.jpg") == "https://cdn.example.org/x.jpg"
    assert absolute_url("//cdn.example.org/x.jpg", "http://example.org/") == "http://cdn.example.org/x.jpg"


def test_a_fragment_resolves_against_the_base():
    assert absolute_url("#appendix", PAGE) == f"{PAGE}#appendix"
    assert absolute_url("#appendix", f"{PAGE}#summary-3") == f"{PAGE}#appendix"


def test_a_fragment_without_a_base_resolves_against_the_sites_root():
    assert absolute_url("#appendix") == f"{SITE}/#appendix"


def test_a_document_relative_url_resolves_against_the_base():
    assert absolute_url("notes.html", PAGE) == f"{PAGE}notes.html"
    assert absolute_url("../3/", PAGE) == f"{SITE}/issues/3/"


def test_an_empty_url_is_the_base():
    assert absolute_url("", PAGE) == PAGE
    assert absolute_url("") == f"{SITE}/"


# absolutize_urls: every href and src of a fragment


def test_every_href_and_src_becomes_absolute():
    html = (
        '<p><a href="/papers/">papers</a> <a href="#appendix">appendix</a> '
        '<img src="/media/x.jpg" alt=""> <a href="https://arxiv.org/abs/1">paper</a> '
        '<a href="mailto:editors@example.org">mail</a> <a href="//cdn.example.org/y">cdn</a></p>'
    )
    assert absolutize_urls(html, PAGE) == (
        f'<p><a href="{SITE}/papers/">papers</a> <a href="{PAGE}#appendix">appendix</a> '
        f'<img src="{SITE}/media/x.jpg" alt=""> <a href="https://arxiv.org/abs/1">paper</a> '
        '<a href="mailto:editors@example.org">mail</a> <a href="https://cdn.example.org/y">cdn</a></p>'
    )


def test_entities_in_a_url_are_read_once_and_written_once():
    html = '<a href="/search/?q=a&amp;page=2">next</a>'
    assert absolutize_urls(html, PAGE) == f'<a href="{SITE}/search/?q=a&amp;page=2">next</a>'


def test_an_empty_href_points_at_the_base():
    assert absolutize_urls('<a href="">here</a>', PAGE) == f'<a href="{PAGE}">here</a>'


def test_spaces_around_a_url_are_dropped():
    assert absolutize_urls('<a href=" /papers/ ">x</a>', PAGE) == f'<a href="{SITE}/papers/">x</a>'


def test_urls_the_keep_pattern_matches_stay_as_they_are():
    keep = re.compile(r"\{\{unsubscribe_url\}\}")
    html = '<a href="{{unsubscribe_url}}">Unsubscribe</a> <a href="/papers/">papers</a>'
    assert absolutize_urls(html, PAGE, keep=keep) == (
        f'<a href="{{{{unsubscribe_url}}}}">Unsubscribe</a> <a href="{SITE}/papers/">papers</a>'
    )


def test_text_and_other_attributes_are_left_alone():
    html = '<p title="/not-a-link">Go to /papers/ or #top</p><img alt="/x.jpg" src="/x.jpg">'
    assert absolutize_urls(html, PAGE) == (
        f'<p title="/not-a-link">Go to /papers/ or #top</p><img alt="/x.jpg" src="{SITE}/x.jpg">'
    )


# Where the site relies on it


@pytest.mark.django_db
def test_a_feed_entry_resolves_fragments_against_the_entrys_page(client):
    make_issue(number=1, intro="See [the archive](/issues/) and [the notes](#notes).")
    xml = client.get("/feeds/atom/").content.decode()
    assert f'href="{SITE}/issues/"' in xml
    assert f'href="{SITE}/issues/1/#notes"' in xml


def test_the_404_page_for_a_protocol_relative_path_keeps_its_canonical_url_on_the_site(rf):
    request = rf.get("/x")
    request.path = (
        "//evil.example/x"  # what "GET //evil.example/x HTTP/1.1" gives; the test client parses it away
    )
    response = page_not_found(request)
    assert response.status_code == 404
    assert f'<link rel="canonical" href="{SITE}//evil.example/x">' in response.content.decode()
