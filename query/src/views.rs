//! Derived views over `agent_events`, registered in every query context.

use datafusion::prelude::SessionContext;

use crate::error::Error;

pub async fn register(ctx: &SessionContext) -> Result<(), Error> {
    let _ = ctx;
    Ok(())
}
