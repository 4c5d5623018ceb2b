//! The use cases of an OpenCAPF cluster, over `opencapf-store`. Every change is one transaction
//! plus its audit record and returns a typed result that is also the `--json` shape, so that the
//! CLI, the servers and later a REST API share one copy of each rule.
//!
//! [`Cluster`] is the handle ([`Cluster::open`]); its methods are spread over private modules, one
//! per use case, and the types they take and return are re-exported here:
//!
//! | module | what it holds |
//! |---|---|
//! | `init` | creating a cluster ([`init()`], [`InitOptions`], [`InitReport`]) |
//! | `capf` | CAPF regeneration and reissue ([`RegenerateReport`]), the lab manufacturer, signers and keys ([`write_key_file`]) |
//! | `enterprise` | service certificates signed by an enterprise CA: the shared checks, `capf csr` and `capf import-signed` ([`ImportedCapf`]), the key kept |
//! | `identities` | ITLRecovery, TVS and tomcat: made by `init`, or once when an older cluster is opened; [`Cluster::own_certificates`] |
//! | `web` | the admin web service's certificate, CUCM's `tomcat`: [`WebIdentity`] for rustls, regenerate, `cert csr` / `cert import-signed tomcat` ([`ImportedWeb`]) |
//! | `vouch` | what TVS answers about a certificate ([`Cluster::tvs_vouch`]) |
//! | `unknown` | configuration-file requests from unknown devices ([`Cluster::record_unknown_request`], [`Cluster::unknown_requests`]) |
//! | `est` | EST (RFC 7030) enrolment: who may enrol ([`EstRequest`]), the request's checks, the LSC issued ([`EstOutcome`]) or refused ([`EstRefusal`]), codes ([`EnrolmentCode`]), approvals, [`CsrAttributes`] |
//! | `credentials` | authentication strings at rest (a keyed hash) and `capf.require_sudi` ([`REQUIRE_SUDI`]) |
//! | `trust` | trust-store additions, the guarded removal ([`Removal`]), exports and anchors |
//! | `rollover` | Certificate Management's guided reads: the CAPF [`RolloverPlan`], the re-keying's [`RekeyProgress`], [`Cluster::trust_dependents`] |
//! | `consumers` | trust consumers outside the cluster (FreeRADIUS, ISE, ASA): [`Consumer`]s, their exports ([`TrustBundle`] rendered per [`ExportFormat`]) and confirmations, the short-lived LSC of `consumer check` |
//! | `rollover_status` | `capf rollover plan|status`: every step of the CAPF rollover ([`RolloverStatus`]) across the stores, the ITL, the consumers and the phones; the consumers a retired CAPF's removal waits for |
//! | `trust_guard` | which devices' current certificate (LSC, else MIC) chains to a trust entry |
//! | `devices` | device add / import / update / remove ([`new_device`], [`DeviceUpdate`], [`Imported`]), record-cert ([`RecordedCert`]), the device reads |
//! | `capf_settings` | `device set`: the CAPF settings and their key-size and authentication-string rules ([`CapfSettings`], [`Selection`], [`SetResult`]), for named devices, all, or a search (like BAT) |
//! | `search` | Find and List Phones: [`DeviceQuery`] ([`LscFilter`], [`DeviceSort`]) to a [`DevicePage`] of [`DeviceRow`]s ([`Cluster::search_devices`], [`Cluster::matching_devices`]) |
//! | `dates` | dates as users type them: [`parse_date`], an operation's deadline [`completes_by`] |
//! | `details` | a device as `device show` gives it ([`DeviceDetails`], [`LineRegistration`]) |
//! | `device_csv` | a device CSV or BAT export read into devices and problems ([`parse_device_csv`]) |
//! | `inspect` | `cert inspect`: a certificate's kind, device and each store's verdict ([`Inspection`]) |
//! | `dashboard` | the dashboard's reads: [`LscOverview`] (LSCs by issuer and month of expiry) and the registration [`TimelineBucket`]s |
//! | `session` | what the CAPF server records of each session ([`Origin`], [`Attempt`], [`Begin`], [`Upload`]...): begin, failures with the lock-out, the issued LSC, install / delete / troubleshoot outcomes |
//! | `expiry` | what the metrics show of certificate expiry ([`Cluster::expiry_gauges`], [`ExpiryGauges`]) |
//! | `reads` | status ([`Status`]), audit, registrations (and recording one), settings |
//! | `settings` | `opencapf settings show|set`: the settings an administrator changes by name ([`Setting`], [`SETTING_KEYS`]) |
//! | `lsc` | whether an LSC is this cluster's ([`issued_by_cluster`]), its state ([`lsc_state`]) and whether it is expiring ([`lsc_expiring`]) |
//! | `recovery` | crash safety: [`Cluster::recover_interrupted`] fails the LSCs a stopped CAPF never saw confirmed ([`Recovered`]), claims name their node and boot, [`Cluster::confirm_late`] records one a phone later proves it holds ([`LateConfirmation`]) |
//! | `revocation` | whether an LSC is its device's installed one ([`not_current`], [`Cluster::lsc_standing`], [`LscRefusals`]) and `device revoke` ([`Revoked`]) |
//! | `crl` | one CRL per CAPF certificate, signed again on every change ([`CrlSummary`], [`CRL_DAYS`]) |
//! | `provisioning` | the files phones boot from: the ITL, `SEP<MAC>.cnf.xml` and its `.sgn` ([`ProvisionedFile`], [`Endpoints`], [`Requested`]) |
//! | `migration` | cluster migration: the old cluster's [`ClusterBundle`] (`cluster export-bundle`), the guided [`MigrationPlan`] of each [`Remedy`], each device's [`DeviceProgress`] ([`MigrationStatus`]), start / refresh / confirm / finish and the steps through the trust and `device set` use cases |
//! | `nodes` | the `serve` processes of the cluster: [`Cluster::join`] ([`Joining`], [`Membership`]'s heartbeat), [`Cluster::nodes`] ([`NodeStatus`]), the CallManager group phones are given |
//! | `accounts` | accounts and API tokens of the admin pages and the REST API: argon2id passwords, the first start's one-time password |
//! | `web_sessions` | the admin service's sessions ([`WebSession`]) and failed-login limits, in the database so that every node shares them |
//! | `kept` | what the servers read per connection, kept until the store's change feed reports a change ([`Cluster::follow_changes`]) |
//! | `actor` | who the audit records name for command-line changes ([`cli_actor`]) |
//!
//! [`Error`] is the store's error type: a use case either is refused (not found, conflict,
//! invalid, refused) or fails in the store below it, and callers handle both the same way (the
//! CLI prints it, a server records it). One type for "the cluster refused or failed" keeps every
//! caller's `?` plain; the store's variants already carry the use case's wording.

mod accounts;
mod actor;
mod capf;
mod capf_settings;
mod consumers;
mod credentials;
mod crl;
mod dashboard;
mod dates;
mod details;
mod device_csv;
mod devices;
mod enterprise;
mod est;
mod expiry;
mod identities;
mod init;
mod inspect;
mod kept;
mod keyring;
mod lsc;
mod migration;
mod nodes;
mod provisioning;
mod reads;
mod recovery;
mod revocation;
mod rollover;
mod rollover_status;
mod search;
mod session;
mod settings;
mod trust;
mod trust_guard;
mod unknown;
mod vouch;
mod web;
mod web_sessions;

use std::path::Path;

use opencapf_pki::PrivateKey;
use opencapf_store::Store;

pub use accounts::{FIRST_ADMIN, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, TOKEN_PREFIX};
pub use actor::cli_actor;
pub use capf::{write_key_file, CapfCertificate, RegenerateReport};
pub use capf_settings::{CapfSettings, Selection, SetResult};
pub use consumers::{
    asa_trustpoint_name, render as render_export, BundleCertificate, BundleRole, Consumer, ConsumerExport,
    ConsumerKind, ExportFile, ExportFormat, ExportOptions, ExportedCert, TrustBundle, ASA_CERTIFICATE_MAP,
    ASA_MAX_LINE, CHECK_LSC_MINUTES,
};
pub(crate) use credentials::parse_switch;
pub use credentials::REQUIRE_SUDI;
pub use crl::{CrlSummary, CRL_DAYS};
pub use dashboard::{ExpiryCount, IssuerCount, LscOverview, TimelineBucket, EXPIRY_MONTHS, MAX_BUCKETS, MIN_BUCKET};
pub use dates::{completes_by, parse_date};
pub use details::{line_registrations, DeviceDetails, LineRegistration};
pub use device_csv::parse_device_csv;
pub use devices::{new_device, parse_lines, DeviceUpdate, Imported, RecordedCert};
pub use enterprise::ImportedCapf;
pub use est::{
    CsrAttributes, EnrolmentCode, EstOutcome, EstRefusal, EstRequest, EstStatus, EstWaiting, KeyChoice, EST_ACTOR,
    EST_APPROVAL, EST_POP, EST_RETRY_AFTER,
};
pub use expiry::{ExpiryGauges, EXPIRING_WITHIN};
pub use identities::OwnCertificate;
pub use init::{init, init_with, InitOptions, InitReport, DEFAULT_OPERATION_EXPIRES_DAYS};
pub use inspect::{Inspection, StoreVerdict};
pub use keyring::{KeySync, KEK_FILE};
pub use lsc::{issued_by_cluster, lsc_expiring, lsc_state, LSC_EXPIRING_DAYS};
pub use migration::{
    BundleDevice, BundleLsc, BundleServiceCert, BundleTrustEntry, ClusterBundle, Confirmation, DeviceProgress,
    DeviceState, MigrationPlan, MigrationRecord, MigrationStatus, PlanStep, PlanStepState, Refreshed, Remedy,
    SeenRegistration, Side, Started, BUNDLE_FORMAT, BUNDLE_VERSION, CONFIRMABLE_STEPS, MAX_BUNDLE_BYTES, MAX_DEVICES,
};
pub use nodes::{system_hostname, Joining, Membership, NodeStatus, HEARTBEAT_SECS};
pub use opencapf_store::StoreError as Error;
pub use opencapf_store::{Database, DB_FILE};
pub use provisioning::{Endpoints, ProvisionedFile, Requested, ITL_FILE};
pub use reads::{CapfSummary, Status};
pub use recovery::{LateConfirmation, Recovered, UNCONFIRMED, UNCONFIRMED_BY};
pub use revocation::{not_current, LscRefusals, NotCurrent, Revoked};
pub use rollover::{RekeyPhone, RekeyProgress, RolloverPlan};
pub use rollover_status::{
    ActiveCapf, ConsumerRollover, RetiredCapf, RolloverPhase, RolloverStatus, RolloverStep, StepState, StoreRemoval,
};
pub use search::{
    DevicePage, DeviceQuery, DeviceRow, DeviceSort, LastRegistration, LscFilter, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
pub use session::{Attempt, Begin, CertSummary, Origin, StringFailure, Upload, ACTOR as CAPF_ACTOR, CREDENTIAL_SPENT};
pub use settings::{Setting, SETTING_KEYS};
pub use trust::{Removal, TrustAddition};
pub use web::{ImportedWeb, WebIdentity};
pub use web_sessions::{
    WebSession, LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_SOURCE, LOGIN_WINDOW, SESSION_IDLE, SESSION_LIFETIME,
};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An open cluster. Cheap to clone (the database pool is shared).
#[derive(Clone)]
pub struct Cluster {
    store: Store,
    auth_key: credentials::AuthKey,
    keyring: keyring::Keyring,
    refusals: revocation::RefusalCache,
    /// Shared by the clones `serve` hands to its listeners.
    unknown_budget: provisioning::RecordBudget,
    /// This node and process, named in the claims its CAPF sessions make.
    node: recovery::Node,
    /// What the servers read per connection, once `serve` follows the change feed.
    kept: kept::Kept,
}

impl Cluster {
    /// Opens the cluster in `data_dir` (`Error::NoCluster` when there is none). Authentication
    /// strings an older version stored in clear are hashed now, and a cluster made before
    /// ITLRecovery and TVS existed gets them now (once, audited as `cluster.identities`).
    pub async fn open(data_dir: &Path) -> Result<Cluster> {
        Self::open_with(data_dir, &Database::in_folder(data_dir)).await
    }

    /// Opens the cluster whose private keys are in `data_dir` and whose database is `database`.
    pub async fn open_with(data_dir: &Path, database: &Database) -> Result<Cluster> {
        let store = Store::open_with(data_dir, database).await?;
        // Keys another node made are restored before the authentication-string key is read, so
        // that a new node uses the cluster's instead of making its own.
        let keyring = keyring::Keyring::load(&store).await?;
        keyring.sync(&store).await?;
        let auth_key = credentials::AuthKey::load(data_dir)?;
        auth_key.migrate(&store).await?;
        identities::ensure(&store).await?;
        // And what this node made (its first authentication-string key, new identities) is sealed.
        keyring.sync(&store).await?;
        let node = recovery::Node::new(data_dir);
        Ok(Cluster {
            store,
            auth_key,
            keyring,
            refusals: Default::default(),
            unknown_budget: Default::default(),
            node,
            kept: Default::default(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        self.store.data_dir()
    }

    /// Names this node (`serve --node-name`) in the claims its CAPF sessions make, so that nodes
    /// sharing a data folder tell their own earlier runs' claims apart. Call it before cloning.
    pub fn name_node(&mut self, name: &str) {
        self.node = recovery::Node::named(name, self.store.data_dir());
    }

    /// Seals into the database the key files it lacks and restores those this node lacks (the
    /// cluster's keyring): `serve` runs it periodically; use cases that write a key run it at once.
    pub async fn sync_keys(&self) -> Result<KeySync> {
        self.keyring.sync(&self.store).await
    }

    /// A private key by its file (relative to the data folder), restored from the database when
    /// this node's folder lacks it.
    pub(crate) async fn private_key(&self, key_file: &str) -> Result<PrivateKey> {
        match opencapf_store::keyfile::read(self.data_dir(), key_file) {
            Err(Error::Io { cause, .. }) if cause.kind() == std::io::ErrorKind::NotFound => {
                self.sync_keys().await?;
                opencapf_store::keyfile::read(self.data_dir(), key_file)
            }
            other => other,
        }
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}
