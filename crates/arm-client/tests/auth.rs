//! Real azure_identity credentials, not bypassed: the Azure CLI credential with a fake `az` on
//! PATH, and the client-secret credential against a local HTTPS token endpoint (a test CA made
//! with rcgen, trusted through SSL_CERT_FILE). In both, the token the credential obtained is the
//! bearer token that reaches ARM, and no secret appears in errors.
//!
//! One test function: it changes process environment variables.

use std::sync::{Arc, Mutex};

use arm_client::{ArmClient, AuthMethod, ClientOptions, Cloud};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A fake ARM endpoint that records the Authorization header of every request.
async fn fake_arm() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let req = read_request(&mut sock).await;
                if let Some(auth) = req
                    .lines()
                    .find(|l| l.to_lowercase().starts_with("authorization:"))
                {
                    s.lock()
                        .unwrap()
                        .push(auth.split_once(':').unwrap().1.trim().to_string());
                }
                let body = r#"{"id":"/subscriptions/s/resourceGroups/rg","name":"rg","location":"westeurope","properties":{"provisioningState":"Succeeded"}}"#;
                let resp = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

async fn read_request<S: tokio::io::AsyncRead + Unpin>(sock: &mut S) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

/// An HTTPS token endpoint on localhost with a certificate from a fresh test CA.
async fn token_server(
    dir: &std::path::Path,
    token: &'static str,
    secret: &'static str,
    client_cert: openssl::x509::X509,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use tokio_rustls::rustls;

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let r = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let r = r.clone();
            let client_cert = client_cert.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let req = read_request(&mut tls).await;
                r.lock().unwrap().push(req.clone());
                let signed = signed_assertion(&req, &client_cert);
                let body = if req.contains(&format!("client_secret={secret}")) || signed {
                    format!(
                        r#"{{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"{token}"}}"#
                    )
                } else {
                    r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#.to_string()
                };
                let status = if body.contains("access_token") {
                    "200 OK"
                } else {
                    "401 Unauthorized"
                };
                let resp = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, requests)
}

/// Whether a token request carries a JWT-bearer client assertion signed (RS256) by the key of
/// `cert`, naming the certificate by its SHA-1 thumbprint, as Microsoft Entra ID checks it.
fn signed_assertion(req: &str, cert: &openssl::x509::X509) -> bool {
    use openssl::{hash::MessageDigest, sign::Verifier};
    if !req.contains(
        "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
    ) {
        return false;
    }
    let Some(jwt) = req
        .split(['&', '\n'])
        .find_map(|kv| kv.trim().strip_prefix("client_assertion="))
    else {
        return false;
    };
    let b64url = |s: &str| {
        let mut t = s.replace('-', "+").replace('_', "/");
        while !t.len().is_multiple_of(4) {
            t.push('=');
        }
        openssl::base64::decode_block(&t).unwrap_or_default()
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let header: serde_json::Value = serde_json::from_slice(&b64url(parts[0])).unwrap_or_default();
    let thumbprint = openssl::base64::encode_block(&cert.digest(MessageDigest::sha1()).unwrap());
    if header["alg"] != "RS256"
        || header["x5t"].as_str().map(|t| t.trim_end_matches('='))
            != Some(thumbprint.trim_end_matches('='))
    {
        return false;
    }
    let key = cert.public_key().unwrap();
    let mut v = Verifier::new(MessageDigest::sha256(), &key).unwrap();
    v.update(format!("{}.{}", parts[0], parts[1]).as_bytes())
        .unwrap();
    v.verify(&b64url(parts[2])).unwrap_or(false)
}

/// An RSA key and a self-signed certificate for a service principal, as one PEM file.
fn client_certificate(dir: &std::path::Path) -> (std::path::PathBuf, openssl::x509::X509) {
    use openssl::{asn1::Asn1Time, bn::BigNum, hash::MessageDigest, pkey::PKey, rsa::Rsa};
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "aoai-arch-test").unwrap();
    let name = name.build();
    let mut b = openssl::x509::X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    let path = dir.join("sp.pem");
    let mut pem = cert.to_pem().unwrap();
    pem.extend(key.private_key_to_pem_pkcs8().unwrap());
    std::fs::write(&path, pem).unwrap();
    (path, cert)
}

/// A read through a client with `auth` reaches the fake ARM with `token` as its bearer token.
async fn reaches_arm_with(arm: &str, seen: &Mutex<Vec<String>>, auth: AuthMethod, token: &str) {
    client(arm, auth)
        .await
        .get("/subscriptions/s/resourceGroups/rg", "2025-04-01")
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().last().map(String::as_str),
        Some(format!("Bearer {token}").as_str())
    );
}

async fn client(arm: &str, auth: AuthMethod) -> ArmClient {
    ArmClient::new(ClientOptions {
        cloud: Cloud::Custom {
            arm_endpoint: arm.to_string(),
            authority_host: None,
        },
        auth,
        ..ClientOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn real_credentials_reach_arm() {
    let dir = tempfile_dir();
    let (cert_path, cert) = client_certificate(&dir);
    let (port, token_requests) = token_server(&dir, "SP-TOKEN-123", "s3cr3t-value", cert).await;
    // Before any HTTPS client exists in this process.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
    std::env::remove_var("SSL_CERT_DIR");

    // 1. Azure CLI: a fake `az` first on PATH prints what `az account get-access-token` prints.
    let az = dir.join("az");
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    std::fs::write(
        &az,
        format!("#!/bin/sh\necho \"$@\" >> \"{}\"\ncat <<'EOF'\n{{\"accessToken\": \"CLI-TOKEN-456\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": {expires}, \"subscription\": \"00000000-0000-0000-0000-000000000000\", \"tenant\": \"11111111-1111-1111-1111-111111111111\", \"tokenType\": \"Bearer\"}}\nEOF\n", dir.join("az-args").display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", path);

    let (arm, seen) = fake_arm().await;
    reaches_arm_with(&arm, &seen, AuthMethod::AzureCli, "CLI-TOKEN-456").await;
    let args = std::fs::read_to_string(dir.join("az-args")).unwrap();
    assert!(
        args.contains("account get-access-token")
            && args.contains(&format!("--scope {arm}/.default")),
        "{args}"
    );

    // 2. Client secret, through the environment, against the HTTPS token endpoint.
    std::env::set_var("AZURE_AUTHORITY_HOST", format!("https://localhost:{port}"));
    std::env::set_var("AZURE_TENANT_ID", "11111111-1111-1111-1111-111111111111");
    std::env::set_var("AZURE_CLIENT_ID", "22222222-2222-2222-2222-222222222222");
    std::env::set_var("AZURE_CLIENT_SECRET", "s3cr3t-value");
    reaches_arm_with(&arm, &seen, AuthMethod::Environment, "SP-TOKEN-123").await;
    let reqs = token_requests.lock().unwrap().clone();
    assert!(
        reqs.iter()
            .any(|r| r.starts_with("POST /11111111-1111-1111-1111-111111111111/oauth2/v2.0/token")),
        "{reqs:?}"
    );

    // 2b. A certificate (PEM with the private key), through the environment: the token request
    // carries a client assertion signed with the certificate's key.
    std::env::remove_var("AZURE_CLIENT_SECRET");
    std::env::set_var("AZURE_CLIENT_CERTIFICATE_PATH", &cert_path);
    let before = token_requests.lock().unwrap().len();
    reaches_arm_with(&arm, &seen, AuthMethod::Environment, "SP-TOKEN-123").await;
    let reqs = token_requests.lock().unwrap()[before..].to_vec();
    assert!(
        reqs.iter().any(|r| r.contains("client_assertion=")),
        "{reqs:?}"
    );
    // A file that is neither PFX nor a PEM certificate with its key is an error naming it.
    let bad = dir.join("bad.pem");
    std::fs::write(&bad, "-----BEGIN NOTHING-----\n").unwrap();
    std::env::set_var("AZURE_CLIENT_CERTIFICATE_PATH", &bad);
    let e = client(&arm, AuthMethod::Environment)
        .await
        .get("/subscriptions/s/resourceGroups/rg", "2025-04-01")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.pem") && e.contains("PEM"), "{e}");
    std::env::remove_var("AZURE_CLIENT_CERTIFICATE_PATH");

    // 3. A wrong secret: the error lists what was tried, and never the secret or a token.
    std::env::set_var("AZURE_CLIENT_SECRET", "wrong-secret-value");
    let c = client(&arm, AuthMethod::Environment).await;
    let e = c
        .get("/subscriptions/s/resourceGroups/rg", "2025-04-01")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("authentication") && e.contains("environment"),
        "{e}"
    );
    for leaked in ["wrong-secret-value", "s3cr3t-value", "SP-TOKEN-123"] {
        assert!(!e.contains(leaked), "{leaked} in {e}");
    }

    // 4. The automatic chain with nothing available says what it tried, in order.
    for v in ["AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"] {
        std::env::remove_var(v);
    }
    std::fs::write(&az, "#!/bin/sh\necho 'Please run az login' >&2\nexit 1\n").unwrap();
    std::env::set_var("PATH", format!("{}:/usr/bin:/bin", dir.display()));
    std::env::set_var("IDENTITY_ENDPOINT", "http://127.0.0.1:9");
    std::env::set_var("IMDS_ENDPOINT", "http://127.0.0.1:9");
    let c = client(&arm, AuthMethod::Auto).await;
    let e = c
        .get("/subscriptions/s/resourceGroups/rg", "2025-04-01")
        .await
        .unwrap_err()
        .to_string();
    let order = [
        "environment",
        "workload identity",
        "managed identity",
        "Azure CLI",
        "Azure Developer CLI",
    ];
    let mut at = 0;
    for o in order {
        let i = e[at..]
            .find(o)
            .unwrap_or_else(|| panic!("{o} missing or out of order in {e}"));
        at += i;
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("arm-client-auth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
