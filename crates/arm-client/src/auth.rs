//! Credentials through `azure_identity`, in the order users of the Azure CLI and SDKs expect.

use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
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
                "environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)"
            }
            AuthMethod::WorkloadIdentity => "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            AuthMethod::ManagedIdentity => "managed identity",
            AuthMethod::AzureCli => "Azure CLI (az account get-access-token)",
            AuthMethod::AzureDeveloperCli => "Azure Developer CLI (azd auth token)",
            AuthMethod::Static(_) => "static token",
        }
    }
}

const CHAIN: [AuthMethod; 5] = [
    AuthMethod::Environment,
    AuthMethod::WorkloadIdentity,
    AuthMethod::ManagedIdentity,
    AuthMethod::AzureCli,
    AuthMethod::AzureDeveloperCli,
];

/// The label of the credential that worked, and the credential.
type Chosen = (String, Arc<dyn TokenCredential>);

pub struct Authenticator {
    method: AuthMethod,
    scope: String,
    authority_host: Option<String>,
    cloud: Cloud,
    /// The credential that worked, chosen on first use.
    chosen: OnceCell<Result<Chosen, String>>,
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set"))
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
                let secret = env("AZURE_CLIENT_SECRET").map_err(|_| {
                    if std::env::var_os("AZURE_CLIENT_CERTIFICATE_PATH").is_some() {
                        "AZURE_CLIENT_CERTIFICATE_PATH is set, but certificate credentials are not built into this aoai-arch; use a client secret, workload identity or the Azure CLI".to_string()
                    } else {
                        "AZURE_CLIENT_SECRET is not set".to_string()
                    }
                })?;
                let mut opts = azure_identity::ClientSecretCredentialOptions::default();
                opts.client_options.cloud = self.cloud_config();
                let c = azure_identity::ClientSecretCredential::new(
                    &tenant,
                    client,
                    Secret::new(secret),
                    Some(opts),
                )
                .map_err(e)?;
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
            match cred.get_token(&[self.scope.as_str()], None).await {
                Ok(_) => return Ok((m.label().to_string(), cred)),
                Err(err) => tried.push(format!("{}: {}", m.label(), first_line(&err.to_string()))),
            }
        }
        Err(format!(
            "authentication: no credential could get a token for {}. Tried:\n  - {}",
            self.scope,
            tried.join("\n  - ")
        ))
    }

    /// A bearer token for ARM. Errors start with "authentication:" and list every method tried.
    pub async fn token(&self) -> Result<String, String> {
        if let AuthMethod::Static(t) = &self.method {
            return Ok(t.clone());
        }
        let chosen = self.chosen.get_or_init(|| self.choose()).await;
        let (label, cred) = chosen.as_ref().map_err(|e| e.clone())?;
        cred.get_token(&[self.scope.as_str()], None)
            .await
            .map(|t| t.token.secret().to_string())
            .map_err(|e| format!("authentication: {label}: {}", first_line(&e.to_string())))
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
