namespace ServerlessImaging.Dicom.Web.Http;

/// <summary>Retry policy for transient failures (exponential backoff with jitter, Retry-After honoured).</summary>
public sealed class DicomWebRetryOptions
{
    public int MaxRetryAttempts { get; init; } = 4;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public static DicomWebRetryOptions None { get; } = new() { MaxRetryAttempts = 0 };
}
