"""The web console at /console, driven in a real Chromium (Debian's, through Playwright): sign in
with an AccessKey pair, see what expires next and where it is bound, upload through the form,
rotate a listener's certificate, delete an unbound one; a RAM user meets the same policies as
through the API; it fits a phone. With SLBCERT_SCREENSHOTS=DIR it saves docs/expiry.md's screenshots
there."""

import datetime
import os
import pathlib
import shutil

import pytest

import certs
from acme import issued_state, pebble, raw_cas, unique_domain  # noqa: F401
from conftest import Cas, Server
from ram import V3 as RamClient, make_user
from slb import Api, upload_expiring

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="Debian's chromium is not installed (scripts/test installs it as root)")


@pytest.fixture
def console_server(tmp_path):
    server = Server(tmp_path, args=["--data-plane", "off"]).start()
    yield server
    server.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def screenshot(page, name, tmp_path):
    directory = pathlib.Path(os.environ.get("SLBCERT_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def open_console(browser, server, viewport=None):
    page = browser.new_page(viewport=viewport or {"width": 1360, "height": 860})
    outside = []
    page.on("request", lambda request: None if request.url.startswith(server.base_url)
            else outside.append(request.url))
    page.goto(server.base_url + "/console")
    return page, outside


def sign_in(page, key_id, secret):
    page.get_by_label("AccessKey ID").fill(key_id)
    page.get_by_label("AccessKey secret").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def row(page, certificate_id):
    return page.locator(f'tr[data-certificate-id="{certificate_id}"]')


def test_sign_in_see_expiry_upload_rotate_and_delete(console_server, browser, tmp_path):
    server = console_server
    creds = server.credentials
    api = Api("v3", server, creds)
    soon = upload_expiring(api, 5, "shop.example.com")
    later = upload_expiring(api, 200, "static.example.com")
    api("SetServerCertificateName", ServerCertificateId=soon, ServerCertificateName="shop")
    api("SetServerCertificateName", ServerCertificateId=later, ServerCertificateName="static")
    lb = api("CreateLoadBalancer", LoadBalancerName="web")["LoadBalancerId"]
    api("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443,
        BackendServerPort=80, Bandwidth=-1, HealthCheck="off", ServerCertificateId=soon)
    api("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=443)
    api("CreateDomainExtension", LoadBalancerId=lb, ListenerPort=443,
        Domain="static.example.com", ServerCertificateId=later)

    page, outside = open_console(browser, server)
    assert page.title() == "slbcert console"
    sign_in(page, creds["AccessKeyId"], creds["AccessKeySecret"])
    # What expires next, and where it is bound: the soonest first, coloured by urgency.
    first = page.locator("tbody tr").first
    first.wait_for()
    assert first.get_attribute("data-certificate-id") == soon
    badge = row(page, soon).locator(".badge")
    assert badge.get_attribute("data-urgency") == "urgent" and badge.inner_text() == "4 days left"
    assert row(page, later).locator(".badge").get_attribute("data-urgency") == "ok"
    assert "shop" in row(page, soon).inner_text()
    assert "web HTTPS:443 certificate (running)" in row(page, soon).inner_text()
    assert "web HTTPS:443 domain static.example.com (running)" in row(page, later).inner_text()
    assert "shop.example.com" in row(page, soon).inner_text()
    assert row(page, soon).get_by_role("button", name="Delete").is_disabled()
    assert "1 expire within 7 days" in page.locator(".summary").inner_text()
    screenshot(page, "certificates", tmp_path)

    # Upload through the form: the chain from a file, the key pasted.
    key = certs.ec_key()
    cert = certs.make_cert(key, cn="new.example.com", sans=("new.example.com",),
                           not_after=certs.now() + datetime.timedelta(days=90))
    chain_file = tmp_path / "new.crt"
    chain_file.write_text(certs.cert_pem(cert))
    page.get_by_role("link", name="Upload").click()
    page.get_by_label("Name (optional)").fill("from-browser")
    page.get_by_label("Certificate chain (PEM) file").set_input_files(str(chain_file))
    page.wait_for_function("document.getElementById('upload-certificate').value.includes('BEGIN')")
    page.get_by_label("Private key (PEM, unencrypted)", exact=True).fill(certs.key_pem(key))
    screenshot(page, "upload", tmp_path)
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("status").filter(has_text="Uploaded from-browser").wait_for()
    listed = api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    new = next(c for c in listed if c["ServerCertificateName"] == "from-browser")
    assert new["Fingerprint"] == certs.fingerprint(cert)
    assert "from-browser" in row(page, new["ServerCertificateId"]).inner_text()

    # Rotate the listener onto it; the listener shows the new one, and the API agrees.
    page.get_by_role("link", name="Load balancers").click()
    listener = page.locator(f'tr[data-listener="{lb}:443"]')
    assert soon in listener.locator(".listener-certificate").inner_text()
    assert "static.example.com" in listener.inner_text()
    listener.get_by_label("New certificate for HTTPS:443").select_option(new["ServerCertificateId"])
    listener.get_by_role("button", name="Rotate").click()
    page.get_by_role("status").filter(has_text="now serves").wait_for()
    listener = page.locator(f'tr[data-listener="{lb}:443"]')
    assert new["ServerCertificateId"] in listener.locator(".listener-certificate").inner_text()
    assert "from-browser" in listener.locator(".listener-certificate").inner_text()
    attribute = api("DescribeLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443)
    assert attribute["ServerCertificateId"] == new["ServerCertificateId"]
    screenshot(page, "load-balancers", tmp_path)

    # The old one is unbound now: delete it (after a confirmation).
    page.get_by_role("link", name="Certificates").click()
    delete = row(page, soon).get_by_role("button", name="Delete")
    assert delete.is_enabled()
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    page.get_by_role("status").filter(has_text="Deleted").wait_for()
    assert row(page, soon).count() == 0
    left = api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    assert soon not in [c["ServerCertificateId"] for c in left]

    # Everything came from this server (no CDN), and the browser's own HMAC-SHA1 agrees with
    # the fallback used where WebCrypto is unavailable (plain HTTP on another host).
    assert outside == []
    same = page.evaluate("""async () => {
        const key = new TextEncoder().encode('k'.repeat(70) + '&');
        const message = new TextEncoder().encode('POST&%2F&Action%3D\u00e9' + 'x'.repeat(300));
        const a = Signer.hmacSha1Fallback(key, message);
        const imported = await crypto.subtle.importKey('raw', key, {name: 'HMAC', hash: 'SHA-1'}, false, ['sign']);
        const b = new Uint8Array(await crypto.subtle.sign('HMAC', imported, message));
        return a.every((x, i) => x === b[i]) && a.length === 20;
    }""")
    assert same is True


def test_a_read_only_user_and_a_wrong_secret_and_a_phone(console_server, browser, tmp_path):
    server = console_server
    creds = server.credentials
    api = Api("v3", server, creds)
    upload_expiring(api, 20, "api.example.com")
    reader = make_user(RamClient("ram", server, creds), "reader", "AliyunSLBReadOnlyAccess")

    page, _ = open_console(browser, server)
    sign_in(page, creds["AccessKeyId"], "not-the-secret")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "SignatureDoesNotMatch" in alert.inner_text()
    assert page.locator("#sign-in").is_visible()

    sign_in(page, reader["AccessKeyId"], reader["AccessKeySecret"])
    page.locator("tbody tr").first.wait_for()
    assert page.locator(".badge").first.get_attribute("data-urgency") == "soon"
    page.get_by_role("link", name="Upload").click()
    key = certs.ec_key()
    page.get_by_label("Certificate chain (PEM)", exact=True).fill(
        certs.cert_pem(certs.make_cert(key, cn="x.example.com", sans=("x.example.com",))))
    page.get_by_label("Private key (PEM, unencrypted)", exact=True).fill(certs.key_pem(key))
    page.get_by_role("button", name="Upload").click()
    alert.filter(has_text="Forbidden.RAM").wait_for()
    assert len(api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]) == 1
    page.get_by_role("button", name="Sign out").click()
    assert page.locator("#sign-in").is_visible() and page.locator("#view").is_hidden()

    # A phone: rows become cards, and nothing is wider than the screen.
    phone, _ = open_console(browser, server, viewport={"width": 390, "height": 844})
    sign_in(phone, creds["AccessKeyId"], creds["AccessKeySecret"])
    phone.locator("tbody tr").first.wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.locator("thead").first.evaluate("e => e.getBoundingClientRect().left < 0")
    screenshot(phone, "phone", tmp_path)


def test_certificate_orders_pending_issued_and_the_next_renewal(tmp_path, pebble, browser):
    """The Orders page: a pending order, an issued one with its end and its renewal, and the
    next renewal in the summary, as ListUserCertificateOrder says."""
    server = Server(tmp_path, args=["--data-plane", "off", *pebble.slbcert_args()]).start()
    try:
        creds = server.credentials
        cas = Cas(server, creds)
        issued_domain, pending_domain = unique_domain("issued"), unique_domain("pending")
        issued = cas.call("CreateCertificateRequest", Domain=issued_domain,
                          ValidateType="DNS")["OrderId"]
        state = cas.call("DescribeCertificateState", OrderId=issued)
        pebble.set_txt(state["RecordDomain"], state["RecordValue"])
        assert issued_state(cas, issued)["Type"] == "certificate"
        pending = cas.call("CreateCertificateRequest", Domain=pending_domain,
                           ValidateType="DNS")["OrderId"]
        listed = {item["OrderId"]: item for item in raw_cas(
            server, "ListUserCertificateOrder", OrderType="CPACK")["CertificateOrderList"]}

        page, outside = open_console(browser, server)
        sign_in(page, creds["AccessKeyId"], creds["AccessKeySecret"])
        page.locator("tbody tr").first.wait_for()
        page.get_by_role("link", name="Orders").click()
        done = page.locator(f'tr[data-order-id="{issued}"]')
        done.wait_for()
        assert done.locator(".badge[data-status]").get_attribute("data-status") == "ISSUED"
        assert issued_domain in done.inner_text()
        renewal = datetime.datetime.fromtimestamp(listed[issued]["RenewalTime"] / 1000,
                                                  datetime.timezone.utc).date().isoformat()
        assert renewal in done.inner_text()
        waiting = page.locator(f'tr[data-order-id="{pending}"]')
        assert waiting.locator(".badge[data-status]").get_attribute("data-status") == "CHECKING"
        summary = page.locator('.summary[aria-label="Orders"]')
        assert "2 orders, 1 pending" in summary.inner_text()
        assert f"next renewal {renewal}" in summary.inner_text()
        assert outside == []
        screenshot(page, "orders", tmp_path)
    finally:
        server.stop()


def test_console_pages_are_ours_only(console_server):
    for path in ("/console", "/console/", "/console/console.js", "/console/signer.js",
                 "/console/console.css"):
        answer = console_server.get(path)
        assert answer.status_code == 200, path
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert console_server.get("/console/../credentials").status_code == 404
    assert console_server.get("/console/nothing.js").status_code == 404
