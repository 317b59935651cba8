using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Relay.Delivery;

/// <summary>A delivery failed for a classified reason; the message is safe to send and log (no patient data).</summary>
public sealed class DeliveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeliveryException(DeliveryFailureReason reason, bool transient, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        Transient = transient;
    }

    /// <summary>Creates the exception.</summary>
    public DeliveryException()
        : this(DeliveryFailureReason.Internal, false, "The delivery failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeliveryException(string message)
        : this(DeliveryFailureReason.Internal, false, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeliveryException(string message, Exception innerException)
        : this(DeliveryFailureReason.Internal, false, message, innerException)
    {
    }

    /// <summary>The contract's reason.</summary>
    public DeliveryFailureReason Reason { get; }

    /// <summary>Whether the same delivery may succeed later.</summary>
    public bool Transient { get; }
}
