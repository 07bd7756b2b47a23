//! Policy evaluation, table-driven: allow, deny, wildcards, conditions, and the intersection of
//! a role's policies with a session's inline policy.

use std::net::IpAddr;

use slbcert::access::Facts;
use slbcert::access::policy::{Decision, MAX_DOCUMENT_CHARS, Policy, Request, decide};
use time::macros::datetime;

const CERT: &str = "acs:slb:cn-hangzhou:1234:certificate/1234-cn-hangzhou";
const OTHER_CERT: &str = "acs:slb:cn-hangzhou:1234:certificate/9999-cn-hangzhou";
const LB: &str = "acs:slb:cn-hangzhou:1234:loadbalancer/lb-abc";

fn facts(ip: &str, secure: bool) -> Facts {
    Facts {
        source_ip: ip.parse::<IpAddr>().unwrap(),
        current_time: datetime!(2026-06-01 12:00 UTC),
        secure_transport: secure,
    }
}

fn policy(text: &str) -> Policy {
    Policy::permission(text, MAX_DOCUMENT_CHARS).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn statement(effect: &str, action: &str, resource: &str, condition: &str) -> String {
    let condition = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"{effect}","Action":{action},"Resource":{resource}{condition}}}]}}"#
    )
}

#[test]
fn decisions_follow_rams_rules() {
    use Decision::*;
    let local = facts("10.1.2.3", true);
    let remote = facts("203.0.113.9", false);
    // (policies, action, resource, facts, expected)
    let cases: Vec<(Vec<String>, &str, &str, &Facts, Decision)> = vec![
        // An Allow of the exact action.
        (vec![statement("Allow", r#""slb:UploadServerCertificate""#, r#""*""#, "")], "slb:UploadServerCertificate", CERT, &local, Allow),
        // Nothing says yes: no.
        (vec![statement("Allow", r#""slb:UploadServerCertificate""#, r#""*""#, "")], "slb:DeleteLoadBalancer", LB, &local, Unmatched),
        // Wildcards in actions; the service prefix and action are case-insensitive.
        (vec![statement("Allow", r#""slb:Describe*""#, r#""*""#, "")], "slb:DescribeServerCertificates", CERT, &local, Allow),
        (vec![statement("Allow", r#""SLB:describe*""#, r#""*""#, "")], "slb:DescribeLoadBalancers", LB, &local, Allow),
        (vec![statement("Allow", r#""slb:Describe*""#, r#""*""#, "")], "slb:UploadServerCertificate", CERT, &local, Unmatched),
        (vec![statement("Allow", r#""slb:Set?oadBalancer*""#, r#""*""#, "")], "slb:SetLoadBalancerName", LB, &local, Allow),
        (vec![statement("Allow", r#""*""#, r#""*""#, "")], "ram:CreateUser", "acs:ram:*:1234:user/a", &local, Allow),
        // Another service's wildcard does not reach.
        (vec![statement("Allow", r#""ram:*""#, r#""*""#, "")], "slb:DeleteLoadBalancer", LB, &local, Unmatched),
        // Resources: one certificate, a type, the whole account.
        (vec![statement("Allow", r#""slb:*""#, &format!("{CERT:?}"), "")], "slb:DeleteServerCertificate", CERT, &local, Allow),
        (vec![statement("Allow", r#""slb:*""#, &format!("{CERT:?}"), "")], "slb:DeleteServerCertificate", OTHER_CERT, &local, Unmatched),
        (vec![statement("Allow", r#""slb:*""#, r#""acs:slb:*:*:certificate/*""#, "")], "slb:DeleteServerCertificate", OTHER_CERT, &local, Allow),
        (vec![statement("Allow", r#""slb:*""#, r#""acs:slb:*:*:certificate/*""#, "")], "slb:DeleteLoadBalancer", LB, &local, Unmatched),
        // An explicit Deny wins over any Allow, in the same or another policy.
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, ""), statement("Deny", r#""slb:DeleteServerCertificate""#, &format!("{CERT:?}"), "")], "slb:DeleteServerCertificate", CERT, &local, Deny),
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, ""), statement("Deny", r#""slb:DeleteServerCertificate""#, &format!("{CERT:?}"), "")], "slb:DeleteServerCertificate", OTHER_CERT, &local, Allow),
        // NotAction: everything but.
        (vec![r#"{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"slb:Delete*","Resource":"*"}]}"#.into()], "slb:DeleteLoadBalancer", LB, &local, Unmatched),
        (vec![r#"{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"slb:Delete*","Resource":"*"}]}"#.into()], "slb:CreateLoadBalancer", LB, &local, Allow),
        // acs:SourceIp with CIDR blocks; NotIpAddress.
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.1"]}}"#)], "slb:DescribeLoadBalancers", LB, &local, Allow),
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#)], "slb:DescribeLoadBalancers", LB, &remote, Unmatched),
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, ""), statement("Deny", r#""*""#, r#""*""#, r#"{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#)], "slb:DescribeLoadBalancers", LB, &remote, Deny),
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, ""), statement("Deny", r#""*""#, r#""*""#, r#"{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#)], "slb:DescribeLoadBalancers", LB, &local, Allow),
        // acs:CurrentTime: before and after a moment.
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"DateLessThan":{"acs:CurrentTime":"2026-12-31T00:00:00Z"}}"#)], "slb:DescribeLoadBalancers", LB, &local, Allow),
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"DateGreaterThan":{"acs:CurrentTime":"2026-06-01T12:00:01+00:00"}}"#)], "slb:DescribeLoadBalancers", LB, &local, Unmatched),
        // acs:SecureTransport; condition keys are case-insensitive.
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"Bool":{"acs:SecureTransport":"true"}}"#)], "slb:DescribeLoadBalancers", LB, &local, Allow),
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"Bool":{"ACS:securetransport":true}}"#)], "slb:DescribeLoadBalancers", LB, &remote, Unmatched),
        // Every operator of a block must hold.
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"Bool":{"acs:SecureTransport":"true"},"IpAddress":{"acs:SourceIp":"203.0.113.0/24"}}"#)], "slb:DescribeLoadBalancers", LB, &local, Unmatched),
        // A key the request does not have fails a positive operator.
        (vec![statement("Allow", r#""slb:*""#, r#""*""#, r#"{"StringEquals":{"acs:SourceVpc":"vpc-1"}}"#)], "slb:DescribeLoadBalancers", LB, &local, Unmatched),
        // No policies at all: no.
        (vec![], "slb:DescribeLoadBalancers", LB, &local, Unmatched),
    ];
    for (index, (texts, action, resource, facts, expected)) in cases.iter().enumerate() {
        let policies: Vec<Policy> = texts.iter().map(|t| policy(t)).collect();
        let request = Request {
            action,
            resource,
            facts,
        };
        assert_eq!(
            decide(policies.iter(), &request),
            *expected,
            "case {index}: {action} on {resource} with {texts:?}"
        );
    }
}

#[test]
fn malformed_documents_are_refused_with_a_reason() {
    let cases = [
        ("not json", "not JSON"),
        (r#"{"Version":"2","Statement":[]}"#, "Version"),
        (r#"{"Version":"1","Statement":[]}"#, "Statement"),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
            "Effect",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            "Action",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"slb:*"}]}"#,
            "Resource",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"Upload","Resource":"*"}]}"#,
            "service:Action",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Sometimes":{"acs:SourceIp":"1.2.3.4"}}}]}"#,
            "operator",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/40"}}}]}"#,
            "CIDR",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"acs:CurrentTime":"tomorrow"}}}]}"#,
            "time",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":{"RAM":"*"}}]}"#,
            "trust",
        ),
    ];
    for (text, reason) in cases {
        let error = Policy::permission(text, MAX_DOCUMENT_CHARS).unwrap_err();
        assert!(error.0.contains(reason), "{text}: {error}");
    }
    let long = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"*","Resource":"{}"}}]}}"#,
        "a".repeat(2000)
    );
    assert!(
        Policy::permission(&long, 1024)
            .unwrap_err()
            .0
            .contains("at most 1024")
    );
}

#[test]
fn trust_policies_name_who_may_assume_a_role() {
    let local = facts("10.1.2.3", true);
    let account_wide = Policy::trust(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1234:root"]}}]}"#,
    )
    .unwrap();
    let one_user = Policy::trust(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::1234:user/bot"}}]}"#,
    )
    .unwrap();
    let bot = [
        "acs:ram::1234:user/bot".to_owned(),
        "acs:ram::1234:root".to_owned(),
    ];
    let alice = [
        "acs:ram::1234:user/alice".to_owned(),
        "acs:ram::1234:root".to_owned(),
    ];
    let stranger = [
        "acs:ram::9999:user/bot".to_owned(),
        "acs:ram::9999:root".to_owned(),
    ];
    assert!(account_wide.trusts(&bot, &local));
    assert!(account_wide.trusts(&alice, &local));
    assert!(!account_wide.trusts(&stranger, &local));
    assert!(one_user.trusts(&bot, &local));
    assert!(!one_user.trusts(&alice, &local));
    // A trust policy must name principals.
    assert!(
        Policy::trust(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#
        )
        .is_err()
    );
}
