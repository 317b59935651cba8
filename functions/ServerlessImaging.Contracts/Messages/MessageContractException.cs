namespace ServerlessImaging.Contracts.Messages;

/// <summary>What is wrong with a message that could not be read or written.</summary>
public enum MessageContractError
{
    /// <summary>Not JSON, or JSON of the wrong shape.</summary>
    Malformed,

    /// <summary>A required envelope field is absent or empty.</summary>
    MissingField,

    /// <summary>The <c>type</c> names no known message.</summary>
    UnknownType,

    /// <summary>The schema version is newer than this build understands (or not positive).</summary>
    UnsupportedSchemaVersion,
}

/// <summary>
/// A message broke the contract. The message text names fields and types only, never values,
/// so it is safe to log; the raw message should be kept aside (poison queue) rather than lost.
/// </summary>
public sealed class MessageContractException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MessageContractException(MessageContractError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public MessageContractException()
        : this(MessageContractError.Malformed, "Malformed message.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public MessageContractException(string message)
        : this(MessageContractError.Malformed, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public MessageContractException(string message, Exception innerException)
        : this(MessageContractError.Malformed, message, innerException)
    {
    }

    /// <summary>The kind of violation.</summary>
    public MessageContractError Error { get; }
}
