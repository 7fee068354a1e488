"""Take the README's screenshots of the admin on the demo data, with Playwright and Chromium.

Start the product (``bin/run``), then, with the Agency Admin login it printed (``var/logins.txt``):

    .venv/bin/python docs/img/screenshots.py --url http://127.0.0.1:8000 --password '<agency_admin password>'

Writes ``docs/img/<name>.png`` at 1440×900 (the browser tests check every page at that size).
"""

import argparse
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
# name -> the page, found from the admin (ids differ from one demo database to another).
SHOTS = ["home", "individuals-search", "employer-group", "benefits-management", "quick-search", "client-page"]
QUICK_SEARCH = "anderson"  # a common demo surname: namesakes told apart by birth date, city and masked SSN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="agency_admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", args.username)
        page.fill("#id_password", args.password)
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r".*/admin/$"))
        for name in SHOTS:
            if name == "quick-search":  # "/" then a name, on the home: the suggestions, grouped
                page.goto(f"{base}/admin/")
                page.keyboard.press("/")
                page.keyboard.type(QUICK_SEARCH)
                page.wait_for_selector("#ad-qs-list [role=option]")
                page.keyboard.press("ArrowDown")
                page.screenshot(path=HERE / f"{name}.png")
                print(f"docs/img/{name}.png  {page.url}")
                continue
            page.goto(f"{base}{path_of(page, base, name)}")
            page.wait_for_load_state("networkidle")
            if name == "employer-group":  # its story under the form: plans, employees, audit trail
                page.locator("#related-employees").scroll_into_view_if_needed()
                page.evaluate("window.scrollBy(0, 500)")
            page.screenshot(path=HERE / f"{name}.png")
            print(f"docs/img/{name}.png  {page.url}")
        browser.close()


def path_of(page, base: str, name: str) -> str:
    if name == "home":
        return "/admin/"
    if name == "individuals-search":
        return "/admin/individuals/individual/?state=FL"
    if name == "benefits-management":
        return "/admin/hrsync/employee/"
    if name == "client-page":  # the first client the quick search offers who holds policies
        page.goto(f"{base}/admin/search/?q={QUICK_SEARCH}")
        links = [a.get_attribute("href") for a in page.locator("#search-individuals tbody tr th a").all()]
        for href in links:
            page.goto(f"{base}{href}")
            if page.locator("#client-policies tbody tr").count():
                return href
        return links[0]
    # The first demo group with employees in Benefits Management (EG-1001).
    page.goto(f"{base}/admin/plans/employergroup/?q=EG-1001")
    return page.locator("#result_list tbody tr th a").first.get_attribute("href")


if __name__ == "__main__":
    main()
