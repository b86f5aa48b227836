"""Captions: tags found once, lowercased; everything escaped; only real mentions linked."""

from posts.text import caption_html, hashtags_in, mentions_in


def test_hashtags_and_mentions_are_found_once_in_order():
    text = "Day at #Beach with @Alice and @bob #beach #sun_set #Été"
    assert hashtags_in(text) == ["beach", "sun_set", "été"]
    assert mentions_in(text) == ["alice", "bob"]


def test_email_addresses_and_html_entities_are_not_tags():
    assert mentions_in("mail me: me@example.com") == []
    assert hashtags_in("&#39; is an entity") == []


def test_caption_is_escaped_and_links_only_known_people():
    html = str(
        caption_html("<script>x</script> #Fun @alice @ghost\nline", known_usernames={"alice"})
    )
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert '<a href="/explore/tags/fun/">#Fun</a>' in html
    assert '<a href="/alice/">@alice</a>' in html
    assert "@ghost" in html and 'href="/ghost/"' not in html
    assert html.endswith("<br>line")
