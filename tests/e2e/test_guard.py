"""The guard itself: it sees a CSP violation, a console error and a request to another host."""


def test_the_guard_sees_what_must_not_happen(server, phone, guard):
    phone.goto(f"{server.url}/card")
    phone.evaluate(
        """() => {
            const img = document.createElement('img');
            img.src = 'https://cdn.example.com/logo.png';
            document.body.append(img);
            console.error('something broke');
        }"""
    )
    phone.locator("body").click()  # let the events arrive
    problems, guard.problems = guard.problems, []  # seen: this test must not fail on them
    assert any("CSP violation" in p and "cdn.example.com" in p for p in problems), problems
    assert any("something broke" in p for p in problems), problems


def test_the_guard_aborts_requests_to_other_hosts(server, new_context, guard):
    context = new_context()
    page = context.new_page()
    page.goto(f"{server.url}/card")
    # The app's CSP would stop this before the network; a page without it shows the guard.
    page.route(
        f"{server.url}/no-csp",
        lambda route: route.fulfill(
            body="<img src='http://x.test/a.png'>", content_type="text/html"
        ),
    )
    page.goto(f"{server.url}/no-csp")
    page.wait_for_load_state("networkidle")
    problems, guard.problems = guard.problems, []
    assert any("request to another host: http://x.test/a.png" in p for p in problems), problems
