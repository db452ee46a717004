//! The Postgres wire protocol over the same read-only SQL (`vigil serve --pg-addr`).
//!
//! ```text
//! psql / Grafana / JDBC ──pgwire 0.41──▶ startup: trust, or the --auth-token as a
//!                                          cleartext password (schemas::auth)
//!   simple query ("Q") and extended (Parse / Bind / Describe / Execute)
//!   ─▶ statement::Statements  (Postgres dialect + datafusion-pg-catalog rewrites;
//!                              client chatter answered here, writes refused)
//!   ─▶ QueryEngine::{sql, prepare, execute}  (planned, check_read_only, limits)
//!   ─▶ encode  (arrow-pg types; what it cannot type goes as text)
//! ```
//!
//! `datafusion-postgres` itself is not used: its handlers run every statement on
//! a `SessionContext` with no authentication and no read-only mode. Its parts
//! are: `datafusion-pg-catalog` (the `pg_catalog` schema, installed by
//! [`query::QueryEngine::for_postgres`], and the SQL rewrites psql's catalog
//! queries need) and `arrow-pg` (Arrow ↔ Postgres types).
//!
//! Errors carry the SQLSTATE of their [`schemas::Status`] (`42501` for a refused
//! statement, `28P01` for a wrong password, `57014` for the timeout, …).

mod encode;
mod statement;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::StringArray;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use arrow_pg::datatypes::df::deserialize_parameters;
use arrow_pg::datatypes::into_pg_type;
use async_trait::async_trait;
use futures::sink::{Sink, SinkExt};
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{FieldInfo, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, METADATA_USER, PgWireConnectionState, PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
pub use pgwire::tokio::TlsAcceptor;
use pgwire::types::format::FormatOptions;
use query::QueryEngine;
use schemas::Status;
use schemas::auth::{Access, Tokens};
use tokio::net::TcpStream;

use statement::{Action, Reply, Statements};

/// How long open sessions get to finish at shutdown before they are closed
/// (psql sessions stay open indefinitely; statements are bounded by the query
/// timeout anyway).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The Postgres protocol over the query engine, for the connections the
/// binary's connection layer accepts (which caps them and stops accepting at
/// shutdown).
#[derive(Clone)]
pub struct PgServer {
    handlers: Arc<Handlers>,
}

impl PgServer {
    /// With `require_tls`, clients must start TLS (the connections are then
    /// served with an acceptor).
    pub async fn new(
        engine: QueryEngine,
        tokens: Tokens,
        require_tls: bool,
    ) -> Result<Self, query::Error> {
        let handlers = Handlers::new(
            engine.for_postgres(statement::setting).await?,
            tokens,
            require_tls,
        );
        Ok(PgServer {
            handlers: Arc::new(handlers),
        })
    }

    /// Serves one client until it disconnects. With `tls`, a client's
    /// `SSLRequest` (and a direct TLS start, ALPN `postgresql`) is answered
    /// with TLS; without it, with `N`. pgwire closes a client that has not
    /// finished its start-up within 60 s.
    pub async fn serve_connection(&self, socket: TcpStream, tls: Option<TlsAcceptor>) {
        let peer = socket.peer_addr().ok();
        if let Err(e) = pgwire::tokio::process_socket(socket, tls, Arc::clone(&self.handlers)).await
        {
            tracing::debug!(?peer, error = %e, "Postgres session ended with an error");
        }
    }
}

/// A query error as the client sees it: the SQLSTATE of its status, the
/// error's text (a generic one for server faults, which are logged).
fn pg_error(e: query::Error) -> PgWireError {
    let status = e.status();
    if status.wire().server_fault {
        tracing::error!(error = %e, "Postgres query failed");
    }
    PgWireError::UserError(Box::new(error_info(
        "ERROR",
        status,
        status.client_message(&e),
    )))
}

fn error_info(severity: &str, status: Status, message: String) -> ErrorInfo {
    ErrorInfo::new(
        severity.to_string(),
        status.wire().sqlstate.to_string(),
        message,
    )
}

struct Handlers {
    service: Arc<Service>,
    startup: Arc<Startup>,
}

impl Handlers {
    fn new(engine: QueryEngine, tokens: Tokens, require_tls: bool) -> Self {
        let statements = Arc::new(Statements::default());
        let mut params = DefaultServerParameterProvider::default();
        params.server_version = statement::SERVER_VERSION.to_string();
        params.default_transaction_read_only = true;
        params.is_superuser = false;
        Handlers {
            service: Arc::new(Service {
                parser: Arc::new(Parser {
                    engine: engine.clone(),
                    statements: Arc::clone(&statements),
                }),
                engine,
                statements,
            }),
            startup: Arc::new(Startup {
                tokens,
                require_tls,
                params,
            }),
        }
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::clone(&self.service)
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::clone(&self.service)
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::clone(&self.startup)
    }
}

/// Trust without a token; with one, the token is the password (cleartext).
struct Startup {
    tokens: Tokens,
    /// With TLS configured, a client that did not ask for it is refused
    /// (pgwire itself would carry on in plain text).
    require_tls: bool,
    params: DefaultServerParameterProvider,
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                if self.require_tls && !client.is_secure() {
                    return Err(PgWireError::UserError(Box::new(error_info(
                        "FATAL",
                        Status::Unauthenticated,
                        "this server accepts TLS connections only (sslmode=require or stricter)"
                            .to_string(),
                    ))));
                }
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if self.tokens.required(Access::Read) {
                    client.set_state(PgWireConnectionState::AuthenticationInProgress);
                    client
                        .send(PgWireBackendMessage::Authentication(
                            Authentication::CleartextPassword,
                        ))
                        .await?;
                } else {
                    finish_authentication(client, &self.params).await?;
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(pwd) => {
                let pwd = pwd.into_password()?;
                let peer = Some(client.socket_addr().ip());
                if let Err(e) = self
                    .tokens
                    .check_token(Access::Read, pwd.password.as_bytes(), peer)
                {
                    if let schemas::auth::AuthError::TooManyAttempts { .. } = e {
                        return Err(PgWireError::UserError(Box::new(error_info(
                            "FATAL",
                            e.status(),
                            e.to_string(),
                        ))));
                    }
                    let user = client
                        .metadata()
                        .get(METADATA_USER)
                        .cloned()
                        .unwrap_or_default();
                    return Err(PgWireError::UserError(Box::new(error_info(
                        "FATAL",
                        Status::Unauthenticated,
                        format!(
                            "password authentication failed for user \"{user}\" (the password is Vigil's --read-token or --auth-token)"
                        ),
                    ))));
                }
                finish_authentication(client, &self.params).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A statement after Parse: planned for the engine, or answered here.
#[derive(Debug, Clone)]
enum Prepared {
    Query(Arc<query::Prepared>),
    Reply(Reply),
}

struct Service {
    engine: QueryEngine,
    statements: Arc<Statements>,
    parser: Arc<Parser>,
}

fn format_options<C: ClientInfo>(client: &C) -> Arc<FormatOptions> {
    Arc::new(FormatOptions::from_client_metadata(client.metadata()))
}

fn show_schema(name: &str) -> Schema {
    Schema::new(vec![Field::new(name, DataType::Utf8, false)])
}

fn reply(r: &Reply, format: &Format, options: Arc<FormatOptions>) -> PgWireResult<Response> {
    Ok(match r {
        Reply::Done(tag) => Response::Execution(Tag::new(tag)),
        Reply::Begin => Response::TransactionStart(Tag::new("BEGIN")),
        Reply::End(tag) => Response::TransactionEnd(Tag::new(tag)),
        Reply::Show { name, value } => {
            let schema = Arc::new(show_schema(name));
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![Arc::new(StringArray::from(vec![value.as_str()]))],
            )
            .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
            let result = query::QueryResult {
                schema,
                batches: vec![batch],
            };
            Response::Query(encode::response(result, format, options)?)
        }
    })
}

#[async_trait]
impl SimpleQueryHandler for Service {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let actions = self.statements.parse(query).map_err(pg_error)?;
        if actions.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let options = format_options(client);
        let mut responses = Vec::with_capacity(actions.len());
        for action in actions {
            let response = match action {
                Action::Reply(r) => reply(&r, &Format::UnifiedText, Arc::clone(&options)),
                Action::Query(sql) => match self.engine.sql(&sql).await {
                    Ok(result) => {
                        encode::response(result, &Format::UnifiedText, Arc::clone(&options))
                            .map(Response::Query)
                    }
                    Err(e) => Err(pg_error(e)),
                },
            };
            match response {
                Ok(r) => responses.push(r),
                Err(PgWireError::UserError(info)) => {
                    // like Postgres: the results so far, then the error; the rest does not run
                    responses.push(Response::Error(info));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(responses)
    }
}

struct Parser {
    engine: QueryEngine,
    statements: Arc<Statements>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut actions = self.statements.parse(sql).map_err(pg_error)?;
        let action = match actions.len() {
            0 => return Ok(None),
            1 => actions.remove(0),
            _ => {
                return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                    "ERROR".into(),
                    "42601".into(),
                    "cannot insert multiple commands into a prepared statement".into(),
                ))));
            }
        };
        Ok(Some(match action {
            Action::Reply(r) => Prepared::Reply(r),
            Action::Query(sql) => {
                Prepared::Query(Arc::new(self.engine.prepare(&sql).await.map_err(pg_error)?))
            }
        }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        match stmt {
            Prepared::Reply(_) => Ok(Vec::new()),
            Prepared::Query(p) => p
                .parameter_types()
                .map_err(pg_error)?
                .iter()
                .map(|t| t.as_ref().map_or(Ok(Type::UNKNOWN), into_pg_type))
                .collect(),
        }
    }

    fn get_result_schema(
        &self,
        stmt: &Prepared,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let format = column_format.unwrap_or(&Format::UnifiedText);
        let options = Arc::new(FormatOptions::default());
        match stmt {
            Prepared::Query(p) => encode::fields(p.schema(), format, options),
            Prepared::Reply(Reply::Show { name, .. }) => {
                encode::fields(&show_schema(name), format, options)
            }
            Prepared::Reply(_) => Ok(Vec::new()),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Service {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        Arc::clone(&self.parser)
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let options = format_options(client);
        match &portal.statement.statement {
            Prepared::Reply(r) => reply(r, &portal.result_column_format, options),
            Prepared::Query(p) => {
                let params = if portal.parameter_len() == 0 {
                    None
                } else {
                    let types = p.parameter_types().map_err(pg_error)?;
                    let refs: Vec<Option<&DataType>> = types.iter().map(Option::as_ref).collect();
                    Some(deserialize_parameters(portal, &refs)?)
                };
                let result = self
                    .engine
                    .execute(p, params.as_ref())
                    .await
                    .map_err(pg_error)?;
                Ok(Response::Query(encode::response(
                    result,
                    &portal.result_column_format,
                    options,
                )?))
            }
        }
    }
}
