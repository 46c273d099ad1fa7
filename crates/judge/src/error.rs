//! Why a judgement did not come back.

/// A judgement that failed, by reason; each is counted under its
/// [`Failure::reason`] and the exchange keeps its other scores.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The judge's budget has no room for another call today or this minute.
    #[error("the judge's budget is used up ({0})")]
    BudgetExhausted(&'static str),
    /// No answer within the timeout, retries included.
    #[error("the judge did not answer in time")]
    Timeout,
    /// 429 on every try.
    #[error("the judge kept answering 429")]
    RateLimited,
    /// A status other than 2xx or 429 on the last try.
    #[error("the judge answered HTTP {0}")]
    Status(u16),
    /// The connection could not be made or broke.
    #[error("cannot reach the judge: {0}")]
    Connect(String),
    /// The judge's HTTP body is not an OpenAI chat completion.
    #[error("the judge's response is not a chat completion: {0}")]
    BadResponse(String),
    /// The judge answered, but not with a verdict in the rubric's format.
    #[error("the judge's answer is not a verdict: {0}")]
    Unparseable(String),
    /// The judge's score lies outside `[0, 1]` (or is not a number).
    #[error("the judge's score {0} is outside [0, 1]")]
    OutOfRange(String),
    /// The rubric needs an input this exchange does not have.
    #[error("the rubric needs {0}, which this exchange lacks")]
    MissingInput(&'static str),
}

impl Failure {
    /// The `outcome` label value of `infersight_judge_requests_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::BudgetExhausted(_) => "budget_exhausted",
            Failure::Timeout => "timeout",
            Failure::RateLimited => "rate_limited",
            Failure::Status(_) => "upstream_error",
            Failure::Connect(_) => "connect_error",
            Failure::BadResponse(_) => "bad_response",
            Failure::Unparseable(_) => "unparseable",
            Failure::OutOfRange(_) => "out_of_range",
            Failure::MissingInput(_) => "missing_input",
        }
    }
}
