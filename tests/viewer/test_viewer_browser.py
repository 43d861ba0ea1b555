"""The workspace viewer in a real headless Chromium, as a newcomer uses it after `make run`.

Debian's ``chromium`` and ``chromedriver`` are driven by Selenium, pointed at the
system driver, so nothing is downloaded. The test sends the sample email from
the start-up banner, files a report through the page as U_ALEX, watches the
case threads appear in the staff channel as U_STEW1 without reloading, claims
one, and sees its root message update in place. Screenshots are kept in
``$STEWARD_VIEWER_ARTIFACTS`` (default: the test's tmp_path); with
``STEWARD_UPDATE_SCREENSHOT=1`` the last one also becomes ``docs/viewer.png``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.test_steward_run import start_steward

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
    "--window-size=1440,900",
)
WAIT = 20

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="steward-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("STEWARD_VIEWER_ARTIFACTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Steward:
    """`steward run` in a subprocess; its output is collected on a thread as it comes."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.ports = {
            "STEWARD_WEB_PORT": free_port(),
            "STEWARD_SMTP_PORT": free_port(),
            "STEWARD_EMULATOR_PORT": free_port(),
        }
        self.process, _ = start_steward(tmp_path, database_url, "run", self.ports)
        self.lines: list[str] = []
        self.started = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Steward is running"):
                self.started.set()
        self.started.set()

    def banner(self) -> list[str]:
        assert self.started.wait(60), "steward run printed no banner"
        return [line for line in self.lines if not line[:4].isdigit()]  # skip log lines

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return "\n".join(self.lines)


def test_a_report_filed_in_the_viewer_reaches_the_staff_thread_and_is_claimed(
    tmp_path: Path, database_url: str, browser, artifacts: Path
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import Select, WebDriverWait

    steward = Steward(tmp_path, database_url)
    wait = WebDriverWait(browser, WAIT)
    root = "#pane-body .msg:last-child"

    def text_of(selector: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, selector).text

    def press(selector: str) -> None:
        """Click, again if the page swapped the element for a newer copy meanwhile."""

        def click(driver: object) -> bool:
            browser.find_element(By.CSS_SELECTOR, selector).click()
            return True

        WebDriverWait(browser, WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
            click
        )

    def shows(selector: str, text: str) -> None:
        wait.until(seen.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))

    def shot(name: str) -> Path:
        path = artifacts / name
        browser.save_screenshot(str(path))
        return path

    try:
        banner = steward.banner()
        emulator_port = steward.ports["STEWARD_EMULATOR_PORT"]
        viewer = f"http://127.0.0.1:{emulator_port}/"
        assert banner[1] == f"  viewer: {viewer}", "\n".join(banner)  # first, after a rule
        command = next(line.strip() for line in banner if line.strip().startswith("python3 -c"))

        # A steward keeps the staff channel open; the email from the banner shows up by itself.
        browser.get(viewer)
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-user") == "U_STEW1"
        assert "conduct-stewards" in text_of("#pane-head")
        browser.execute_script("window.stillTheSamePage = true;")
        subprocess.run(command, shell=True, check=True, cwd=tmp_path, timeout=30)
        shows("#pane-body", "COC-1")
        staff_window = browser.current_window_handle

        # 1. Alex files a report through the page, in a second window.
        browser.switch_to.new_window("window")
        browser.get(viewer + "?as=U_ALEX&pane=C_GENERAL")
        assert "conduct-stewards" not in text_of("#sidebar")  # a private channel Alex is not in
        browser.find_element(By.ID, "shortcuts-button").click()
        browser.find_element(By.CSS_SELECTOR, "[data-callback-id='report_concern']").click()
        form = wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, "form.modal")))
        assert "Report a concern" in form.text
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        error = "#modal .bk-input[data-block-id='what'] .bk-error"
        shows(error, "what happened")
        shot("1-report-form-inline-error.png")
        form = browser.find_element(By.CSS_SELECTOR, "form.modal")
        form.find_element(By.CSS_SELECTOR, "textarea[data-action-id='what']").send_keys(
            "At the Thursday meetup a member kept interrupting me and mocking my accent."
        )
        Select(form.find_element(By.CSS_SELECTOR, "[data-action-id='category']")).select_by_value(
            "harassment"
        )
        Select(
            form.find_element(By.CSS_SELECTOR, "[data-action-id='reported_users']")
        ).select_by_value("U_BLAIR")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(seen.invisibility_of_element_located((By.CSS_SELECTOR, "form.modal")))
        browser.find_element(By.CSS_SELECTOR, ".side-link[data-pane='dm']").click()
        shows("#pane-body", "COC-2")
        shot("2-reporter-dm.png")

        # 2. The staff window, never reloaded, shows the new case thread.
        browser.switch_to.window(staff_window)
        shows(root, "COC-2")
        shows(root, "Claimed by: nobody yet")
        assert browser.execute_script("return window.stillTheSamePage === true;")
        assert "mocking my accent" not in browser.page_source  # metadata only in the channel
        shot("3-staff-channel.png")

        # 3. Sam claims it; 4. the root message updates in place.
        press(f"{root} button[data-action-id='case_claim']")
        shows(root, "Claimed by: @sam (steward)")
        assert browser.find_elements(By.CSS_SELECTOR, f"{root} [data-action-id='case_claim']") == []
        assert browser.execute_script("return window.stillTheSamePage === true;")
        # View report: a button that opens a modal, for stewards only.
        press(f"{root} button[data-action-id='case_view_report']")
        form = wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, "form.modal")))
        assert "mocking my accent" in form.text and "COC-2" in form.text
        shot("4-view-report.png")
        press("form.modal [data-act='close-view']")
        wait.until(seen.invisibility_of_element_located((By.CSS_SELECTOR, "form.modal")))
        press(f"{root} .thread-link")
        shows("#thread-body", "claimed this case")

        # 5. The screenshot the README opens with.
        final = shot("5-claimed-thread.png")
        if os.environ.get("STEWARD_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(final, Path(__file__).resolve().parents[2] / "docs" / "viewer.png")

        # The acknowledgement of the emailed report is in the outbound mail pane.
        browser.find_element(By.CSS_SELECTOR, ".side-link[data-pane='mail']").click()
        shows("#pane-body", "jordan@example.net")
        assert browser.find_elements(By.CSS_SELECTOR, "#pane-body img, #pane-body script") == []
        shot("6-outbound-mail.png")
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        output = steward.stop()
    assert steward.process.returncode == 0, output


def test_a_member_reports_a_message_posts_in_a_thread_and_a_dm_and_uses_app_home(
    tmp_path: Path, database_url: str, browser, artifacts: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    steward = Steward(tmp_path, database_url)
    wait = WebDriverWait(browser, WAIT)
    modal = (By.CSS_SELECTOR, "form.modal")

    def shows(selector: str, text: str) -> None:
        wait.until(seen.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))

    try:
        steward.banner()
        viewer = f"http://127.0.0.1:{steward.ports['STEWARD_EMULATOR_PORT']}/"
        browser.get(viewer + "?as=U_ALEX&pane=C_GENERAL")

        # "Report this message" on Blair's message opens the form with the message quoted.
        message = browser.find_element(By.CSS_SELECTOR, ".msg[data-ts='1700000200.000200']")
        ActionChains(browser).move_to_element(message).perform()
        message.find_element(By.CSS_SELECTOR, ".tool-menu summary").click()
        message.find_element(By.CSS_SELECTOR, "[data-callback-id='report_message']").click()
        form = wait.until(seen.visibility_of_element_located(modal))
        assert "You are reporting a message by @blair in general" in form.text
        assert "people like Alex should not be allowed" in form.text
        browser.save_screenshot(str(artifacts / "7-report-this-message.png"))
        form.find_element(By.CSS_SELECTOR, "footer [data-act='close-view']").click()
        wait.until(seen.invisibility_of_element_located(modal))

        # A reply in the thread, sent with Enter.
        message = browser.find_element(By.CSS_SELECTOR, ".msg[data-ts='1700000200.000200']")
        message.find_element(By.CSS_SELECTOR, ".thread-link").click()
        box = wait.until(seen.element_to_be_clickable((By.CSS_SELECTOR, ".thread textarea")))
        attack = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
        box.send_keys("Let us keep it kind, please. " + attack, Keys.ENTER)
        shows("#thread-body", "Let us keep it kind, please. " + attack)  # shown as text
        shows("#pane-body", "2 replies")
        assert browser.find_elements(By.CSS_SELECTOR, "#thread-body img, #thread-body script") == []
        assert browser.execute_script("return window.pwned === undefined;")

        # A direct message to the app.
        browser.find_element(By.CSS_SELECTOR, ".side-link[data-pane='dm']").click()
        box = wait.until(seen.element_to_be_clickable((By.CSS_SELECTOR, ".composer textarea")))
        box.send_keys("Hello, is anyone there?")
        browser.find_element(By.CSS_SELECTOR, ".composer .send").click()
        shows("#pane-body", "Hello, is anyone there?")

        # App Home is published when opened; its button opens the report form.
        browser.find_element(By.CSS_SELECTOR, ".side-link[data-pane='home']").click()
        shows("#pane-body", "Steward: the conduct desk")
        browser.find_element(By.CSS_SELECTOR, "[data-action-id='home_report']").click()
        form = wait.until(seen.visibility_of_element_located(modal))
        assert "Report a concern" in form.text
        form.find_element(By.CSS_SELECTOR, "header [data-act='close-view']").click()
        wait.until(seen.invisibility_of_element_located(modal))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        output = steward.stop()
    assert steward.process.returncode == 0, output
