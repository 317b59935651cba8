namespace ServerlessImaging.Orchestration.Audit;

/// <summary>
/// What an auditor asks for. Every filter is optional and combined with AND; times are inclusive UTC bounds on
/// <see cref="AuditRecord.RecordedAt"/>.
/// <see cref="ContinuationToken"/> is the opaque token of the previous page. <see cref="Sequence"/> (with a registration) picks
/// one place of one of its numbered trails, the one <see cref="Stream"/> names (null: the registration orchestration's own).
/// Without a sequence, a <see cref="Stream"/> keeps that trail's records and null filters nothing.
/// </summary>
public sealed record AuditQuery(
    string? PatientKey = null,
    string? UserId = null,
    string? SiteId = null,
    string? RegistrationId = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    int PageSize = 50,
    string? ContinuationToken = null,
    long? Sequence = null,
    string? Stream = null)
{
    /// <summary>Largest page an auditor may ask for.</summary>
    public const int MaxPageSize = 500;
}

/// <summary>One page of records in recorded order (oldest first; a registration's records by sequence), and the token of the next page (null on the last).</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Records, string? ContinuationToken);

/// <summary>The bad continuation token an auditor sent (typed so the API answers 400, not 500).</summary>
public sealed class InvalidContinuationTokenException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidContinuationTokenException()
        : base("The continuation token is not one this service issued.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidContinuationTokenException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public InvalidContinuationTokenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The append-only audit trail: records are created, never updated or deleted.</summary>
public interface IAuditTrail
{
    /// <summary>Appends; writing a record whose id exists already is a no-op (the fact is recorded).</summary>
    Task AppendAsync(AuditRecord record, CancellationToken cancellationToken);

    /// <summary>Records matching <paramref name="query"/>, in recorded order: by recorded-at, then sequence.</summary>
    /// <exception cref="InvalidContinuationTokenException">The token is malformed.</exception>
    Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken);
}
