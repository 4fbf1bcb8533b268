//! Credentials through `azure_identity`, in the order users of the Azure CLI and SDKs expect.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{Secret, SecretBytes, TokenCredential};
use tokio::sync::OnceCell;

use crate::Cloud;

/// Which credential to use. `Auto` tries, in order: environment, workload identity, managed
/// identity, Azure CLI, Azure Developer CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    Auto,
    Environment,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
    AzureDeveloperCli,
    /// A fixed token (the emulator accepts any bearer token).
    Static(String),
}

impl AuthMethod {
    fn label(&self) -> &'static str {
        match self {
            AuthMethod::Auto => "auto",
            AuthMethod::Environment => {
                "environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH)"
            }
            AuthMethod::WorkloadIdentity => "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            AuthMethod::ManagedIdentity => "managed identity",
            AuthMethod::AzureCli => "Azure CLI (az account get-access-token)",
            AuthMethod::AzureDeveloperCli => "Azure Developer CLI (azd auth token)",
            AuthMethod::Static(_) => "static token",
        }
    }
}

/// How long signing in waits for a managed identity endpoint (IMDS on a VM, the App Service or
/// Arc endpoint) to answer before trying the next credential.
pub const MANAGED_IDENTITY_PROBE: Duration = Duration::from_secs(5);

const CHAIN: [AuthMethod; 5] = [
    AuthMethod::Environment,
    AuthMethod::WorkloadIdentity,
    AuthMethod::ManagedIdentity,
    AuthMethod::AzureCli,
    AuthMethod::AzureDeveloperCli,
];

/// The label of the credential that worked, and the credential.
type Chosen = (String, Arc<dyn TokenCredential>);

/// A token is used until this long before it expires, then fetched again: a request that
/// starts with it still carries a valid token when ARM reads it.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A token and when it stops being used (its expiry less [`TOKEN_REFRESH_MARGIN`]).
struct Cached {
    secret: String,
    use_until: azure_core::time::OffsetDateTime,
}

impl From<&azure_core::credentials::AccessToken> for Cached {
    fn from(t: &azure_core::credentials::AccessToken) -> Cached {
        let margin = azure_core::time::Duration::try_from(TOKEN_REFRESH_MARGIN)
            .unwrap_or(azure_core::time::Duration::ZERO);
        Cached {
            secret: t.token.secret().to_string(),
            use_until: t.expires_on - margin,
        }
    }
}

pub struct Authenticator {
    method: AuthMethod,
    scope: String,
    authority_host: Option<String>,
    cloud: Cloud,
    /// The credential that worked, chosen on first use.
    chosen: OnceCell<Result<Chosen, String>>,
    /// Tokens by scope. The credentials of azure_identity cache nothing themselves (the Azure
    /// CLI credential runs `az` on every call); the async mutex makes one caller fetch while
    /// the others wait for its token.
    cache: tokio::sync::Mutex<HashMap<String, Cached>>,
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set"))
}

/// The certificate file of AZURE_CLIENT_CERTIFICATE_PATH as the PKCS#12 (PFX) bytes
/// azure_identity reads. A PFX file is passed as it is; a PEM file (the certificate and its
/// private key, as `az ad sp create-for-rbac --create-cert` writes it) is bundled first, protected
/// with AZURE_CLIENT_CERTIFICATE_PASSWORD when set.
fn pkcs12_bundle(path: &str, password: Option<&str>) -> Result<Vec<u8>, String> {
    use openssl::{pkcs12::Pkcs12, pkey::PKey, x509::X509};
    let bytes = std::fs::read(path).map_err(|err| format!("reading {path}: {err}"))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Ok(bytes);
    }
    let pem_err = |what: &str| {
        let what = what.to_string();
        move |err: openssl::error::ErrorStack| format!("{path}: {what}: {err}")
    };
    let cert = X509::from_pem(&bytes).map_err(pem_err("no PEM certificate"))?;
    let key = match password {
        Some(p) => PKey::private_key_from_pem_passphrase(&bytes, p.as_bytes()),
        None => PKey::private_key_from_pem(&bytes),
    }
    .map_err(pem_err(
        "no PEM private key (the file must hold the certificate and its key)",
    ))?;
    let bundle = Pkcs12::builder()
        .name("aoai-arch")
        .pkey(&key)
        .cert(&cert)
        .build2(password.unwrap_or(""))
        .map_err(pem_err("bundling the certificate"))?;
    bundle
        .to_der()
        .map_err(pem_err("encoding the certificate bundle"))
}

impl Authenticator {
    pub fn new(method: &AuthMethod, cloud: &Cloud) -> Authenticator {
        let authority_host = match cloud {
            Cloud::Custom { authority_host, .. } => authority_host.clone(),
            _ => None,
        };
        Authenticator {
            method: method.clone(),
            scope: cloud.scope(),
            authority_host,
            cloud: cloud.clone(),
            chosen: OnceCell::new(),
            cache: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn cloud_config(&self) -> Option<Arc<azure_core::cloud::CloudConfiguration>> {
        use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
        let c = match (&self.cloud, &self.authority_host) {
            (Cloud::China, _) => CloudConfiguration::AzureChina,
            (Cloud::UsGovernment, _) => CloudConfiguration::AzureGovernment,
            (Cloud::Custom { .. }, Some(host)) => {
                let mut custom = CustomConfiguration::default();
                custom.authority_host = host.clone();
                CloudConfiguration::Custom(custom)
            }
            _ => return None,
        };
        Some(Arc::new(c))
    }

    fn build(&self, m: &AuthMethod) -> Result<Arc<dyn TokenCredential>, String> {
        let e = |err: azure_core::Error| err.to_string();
        match m {
            AuthMethod::Environment => {
                let tenant = env("AZURE_TENANT_ID")?;
                let client = env("AZURE_CLIENT_ID")?;
                if let Ok(secret) = env("AZURE_CLIENT_SECRET") {
                    let mut opts = azure_identity::ClientSecretCredentialOptions::default();
                    opts.client_options.cloud = self.cloud_config();
                    let c = azure_identity::ClientSecretCredential::new(
                        &tenant,
                        client,
                        Secret::new(secret),
                        Some(opts),
                    )
                    .map_err(e)?;
                    return Ok(c);
                }
                let path = env("AZURE_CLIENT_CERTIFICATE_PATH").map_err(|_| {
                    "neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set"
                        .to_string()
                })?;
                let password = env("AZURE_CLIENT_CERTIFICATE_PASSWORD").ok();
                let bundle = pkcs12_bundle(&path, password.as_deref())?;
                let mut opts = azure_identity::ClientCertificateCredentialOptions::default();
                opts.client_options.cloud = self.cloud_config();
                opts.password = password.map(Secret::new);
                let c = azure_identity::ClientCertificateCredential::new(
                    tenant,
                    client,
                    SecretBytes::new(bundle),
                    Some(opts),
                )
                .map_err(|err| format!("{path}: {err}"))?;
                Ok(c)
            }
            AuthMethod::WorkloadIdentity => {
                env("AZURE_FEDERATED_TOKEN_FILE")?;
                let c = azure_identity::WorkloadIdentityCredential::new(None).map_err(e)?;
                Ok(c)
            }
            AuthMethod::ManagedIdentity => {
                let c = azure_identity::ManagedIdentityCredential::new(None).map_err(e)?;
                Ok(c)
            }
            AuthMethod::AzureCli => Ok(azure_identity::AzureCliCredential::new(None).map_err(e)?),
            AuthMethod::AzureDeveloperCli => {
                Ok(azure_identity::AzureDeveloperCliCredential::new(None).map_err(e)?)
            }
            AuthMethod::Auto | AuthMethod::Static(_) => Err("not a credential".into()),
        }
    }

    async fn choose(&self) -> Result<Chosen, String> {
        let candidates: Vec<AuthMethod> = match &self.method {
            AuthMethod::Auto => CHAIN.to_vec(),
            m => vec![m.clone()],
        };
        let mut tried = Vec::new();
        for m in candidates {
            let cred = match self.build(&m) {
                Ok(c) => c,
                Err(why) => {
                    tried.push(format!("{}: {why}", m.label()));
                    continue;
                }
            };
            let scopes = [self.scope.as_str()];
            let attempt = cred.get_token(&scopes, None);
            let got = if m == AuthMethod::ManagedIdentity {
                // Off Azure, the instance metadata endpoint often does not answer at all, and
                // azure_identity retries it for minutes: a probe gets a few seconds.
                match tokio::time::timeout(MANAGED_IDENTITY_PROBE, attempt).await {
                    Ok(r) => r.map_err(|err| first_line(&err.to_string())),
                    Err(_) => Err(format!(
                        "no answer from the managed identity endpoint within {} s",
                        MANAGED_IDENTITY_PROBE.as_secs()
                    )),
                }
            } else {
                attempt.await.map_err(|err| first_line(&err.to_string()))
            };
            match got {
                Ok(t) => {
                    self.remember(&self.scope, &t).await;
                    return Ok((m.label().to_string(), cred));
                }
                Err(why) => tried.push(format!("{}: {why}", m.label())),
            }
        }
        Err(format!(
            "authentication: no credential could get a token for {}. Tried:\n  - {}",
            self.scope,
            tried.join("\n  - ")
        ))
    }

    async fn remember(&self, scope: &str, t: &azure_core::credentials::AccessToken) {
        self.cache
            .lock()
            .await
            .insert(scope.to_string(), Cached::from(t));
    }

    /// A bearer token for ARM, from the cache until shortly before it expires. Errors start
    /// with "authentication:" and list every method tried.
    pub async fn token(&self) -> Result<String, String> {
        if let AuthMethod::Static(t) = &self.method {
            return Ok(t.clone());
        }
        let chosen = self.chosen.get_or_init(|| self.choose()).await;
        let (label, cred) = chosen.as_ref().map_err(|e| e.clone())?;
        let scope = self.scope.as_str();
        // Held while fetching: concurrent callers wait for this one's token instead of each
        // running the credential (and `az`) themselves.
        let mut cache = self.cache.lock().await;
        let now = azure_core::time::OffsetDateTime::now_utc();
        if let Some(c) = cache.get(scope).filter(|c| c.use_until > now) {
            return Ok(c.secret.clone());
        }
        let t = cred
            .get_token(&[scope], None)
            .await
            .map_err(|e| format!("authentication: {label}: {}", first_line(&e.to_string())))?;
        let fresh = Cached::from(&t);
        let secret = fresh.secret.clone();
        cache.insert(scope.to_string(), fresh);
        Ok(secret)
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
