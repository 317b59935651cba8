namespace ServerlessImaging.Dicom.Web.Multipart;

/// <summary>A multipart body or its Content-Type header does not follow RFC 2046 / RFC 2387.</summary>
public sealed class MultipartFormatException : Exception
{
    public MultipartFormatException(string message) : base(message) { }

    public MultipartFormatException(string message, Exception innerException) : base(message, innerException) { }

    public MultipartFormatException() : base("Malformed multipart body.") { }
}
