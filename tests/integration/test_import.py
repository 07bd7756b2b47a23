"""`slbcert import`: certificate and key pairs found in certbot's, acme.sh's and plain
`name.crt`/`name.key` layouts are uploaded into a running server's store, the ones already
stored are skipped, and a mismatched pair and an encrypted key are refused with the reason."""

import json
import os
import subprocess

from conftest import BINARY, cli_env
import certs
from slb import Api


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def pair(cn):
    key = certs.ec_key()
    return certs.make_cert(key, cn=cn, sans=(cn,)), key


def import_(server, *args):
    return subprocess.run([BINARY, "import", "--data-dir", str(server.data_dir), *args],
                          capture_output=True, text=True, env=cli_env(server.data_dir))


def stored(api):
    listed = api("DescribeServerCertificates")["ServerCertificates"]["ServerCertificate"]
    return {c["Fingerprint"]: c for c in listed}


def test_import_finds_each_layout_skips_what_is_stored_and_says_what_it_refused(
        server, account, tmp_path):
    api = Api("v1", server, account)
    tree = tmp_path / "tree"
    # certbot: live/ links into archive/, whose numbered copies are not pairs of their own.
    certbot_cert, certbot_key = pair("certbot.example.com")
    archive = tree / "letsencrypt" / "archive" / "certbot.example.com"
    write(archive / "fullchain1.pem", certs.cert_pem(certbot_cert))
    write(archive / "privkey1.pem", certs.key_pem(certbot_key))
    live = tree / "letsencrypt" / "live" / "certbot.example.com"
    live.mkdir(parents=True)
    os.symlink("../../archive/certbot.example.com/fullchain1.pem", live / "fullchain.pem")
    os.symlink("../../archive/certbot.example.com/privkey1.pem", live / "privkey.pem")
    # acme.sh, an ECC certificate's directory.
    acme_cert, acme_key = pair("acme.example.org")
    acme = tree / "acme.sh" / "acme.example.org_ecc"
    write(acme / "acme.example.org.cer", certs.cert_pem(acme_cert))
    write(acme / "fullchain.cer", certs.cert_pem(acme_cert))
    write(acme / "acme.example.org.key", certs.key_pem(acme_key))
    write(acme / "ca.cer", certs.cert_pem(acme_cert))
    # name.crt / name.key pairs: a good one, the same certificate again, one already stored,
    # a mismatched pair and an encrypted key.
    plain = tree / "plain"
    good_cert, good_key = pair("good.example.net")
    write(plain / "good.crt", certs.cert_pem(good_cert))
    write(plain / "good.key", certs.key_pem(good_key))
    write(plain / "twin.pem", certs.cert_pem(good_cert))
    write(plain / "twin.key", certs.key_pem(good_key))
    known_cert, known_key = pair("known.example.net")
    known_id = api("UploadServerCertificate", ServerCertificate=certs.cert_pem(known_cert),
                   PrivateKey=certs.key_pem(known_key))["ServerCertificateId"]
    write(plain / "known.crt", certs.cert_pem(known_cert))
    write(plain / "known.key", certs.key_pem(known_key))
    mismatched_cert, _ = pair("mismatch.example.net")
    write(plain / "mismatch.crt", certs.cert_pem(mismatched_cert))
    write(plain / "mismatch.key", certs.key_pem(certs.ec_key()))
    locked_cert, locked_key = pair("locked.example.net")
    write(plain / "locked.crt", certs.cert_pem(locked_cert))
    write(plain / "locked.key", certs.key_pem(locked_key, password=b"secret"))
    before = stored(api)

    result = import_(server, "--region", "cn-hangzhou", "--json", str(tree))
    assert result.returncode == 1, result
    assert "2 refused" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["AccountId"] == account["AccountId"] and summary["RegionId"] == "cn-hangzhou"
    imported = {i["ServerCertificateName"]: i for i in summary["Imported"]}
    assert set(imported) == {"certbot.example.com", "acme.example.org", "good"}
    assert imported["certbot.example.com"]["Layout"] == "certbot"
    assert imported["acme.example.org"]["Layout"] == "acme.sh"
    assert imported["acme.example.org"]["KeyFile"].endswith("acme.example.org.key")
    skipped = {os.path.basename(s["CertificateFile"]): s for s in summary["Skipped"]}
    assert set(skipped) == {"twin.pem", "known.crt"}
    assert skipped["known.crt"]["ServerCertificateId"] == known_id
    assert skipped["twin.pem"]["ServerCertificateId"] == imported["good"]["ServerCertificateId"]
    refused = {os.path.basename(r["Path"]): r for r in summary["Refused"]}
    assert set(refused) == {"mismatch.crt", "locked.crt"}
    assert "does not match" in refused["mismatch.crt"]["Message"], refused
    assert "encrypted" in refused["locked.crt"]["Message"].lower(), refused

    # The running server serves what was imported, under the names and fingerprints found.
    after = stored(api)
    assert len(after) == len(before) + 3
    for cert, name in ((certbot_cert, "certbot.example.com"), (acme_cert, "acme.example.org"),
                       (good_cert, "good")):
        found = after[certs.fingerprint(cert)]
        assert found["ServerCertificateName"] == name
        assert found["ServerCertificateId"] == imported[name]["ServerCertificateId"]
        assert found["RegionId"] == "cn-hangzhou"
    # The audit trail names the import as the account's own upload.
    uploads = [line for line in server.audit_lines()
               if line["action"] == "UploadServerCertificate" and line["source"] == "cli import"]
    assert len(uploads) == 3 and {u["principal"] for u in uploads} == {"root"}

    # Again: everything is stored already; only the two bad pairs are refused again.
    again = import_(server, "--region", "cn-hangzhou", str(tree))
    assert again.returncode == 1
    assert again.stdout.splitlines()[0].startswith("imported 0, already stored 5, refused 2")
    assert "mismatch.crt: " in again.stdout and "locked.crt: " in again.stdout
    assert len(stored(api)) == len(after)


def test_import_needs_a_known_region_and_one_account(server, account, tmp_path):
    cert, key = pair("one.example.com")
    write(tmp_path / "d" / "one.crt", certs.cert_pem(cert))
    write(tmp_path / "d" / "one.key", certs.key_pem(key))
    unknown = import_(server, "--region", "mars-1", str(tmp_path / "d"))
    assert unknown.returncode == 1 and 'unknown region "mars-1"' in unknown.stderr
    other = server.create_account("other")
    several = import_(server, "--region", "cn-beijing", str(tmp_path / "d"))
    assert several.returncode == 1 and "--account-id" in several.stderr
    missing = import_(server, "--region", "cn-beijing", "--account-id", "1234", str(tmp_path / "d"))
    assert missing.returncode == 1 and "no account 1234" in missing.stderr
    # Into the other account: it sees the certificate; the first account does not.
    chosen = import_(server, "--region", "cn-beijing", "--account-id", other["AccountId"],
                     str(tmp_path / "d"))
    assert chosen.returncode == 0, chosen
    assert chosen.stdout.startswith("imported 1, already stored 0, refused 0")
    theirs = Api("v3", server, other)("DescribeServerCertificates", RegionId="cn-beijing")
    assert [c["ServerCertificateName"] for c in
            theirs["ServerCertificates"]["ServerCertificate"]] == ["one"]
    mine = Api("v3", server, account)("DescribeServerCertificates", RegionId="cn-beijing")
    assert mine["ServerCertificates"]["ServerCertificate"] == []
    nothing = import_(server, "--region", "cn-beijing", "--account-id", other["AccountId"],
                      str(tmp_path / "nowhere"))
    assert nothing.returncode == 1 and "nowhere" in nothing.stdout and "Unreadable" in nothing.stdout
