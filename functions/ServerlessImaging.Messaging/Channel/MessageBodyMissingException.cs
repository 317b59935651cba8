namespace ServerlessImaging.Messaging.Channel;

/// <summary>A queue message points at an offloaded body that cannot be found; the message can never be handled.</summary>
public sealed class MessageBodyMissingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MessageBodyMissingException()
        : base("The message's offloaded body is missing.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public MessageBodyMissingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public MessageBodyMissingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
