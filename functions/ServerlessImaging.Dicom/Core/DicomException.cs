namespace ServerlessImaging.Dicom;

/// <summary>Base type of every error the toolkit raises about DICOM data. Catch this to handle any bad input.</summary>
public class DicomException : Exception
{
    public DicomException() { }
    public DicomException(string message) : base(message) { }
    public DicomException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The bytes do not form valid DICOM. <see cref="Offset"/> is the byte position (in the decoded stream) where it went wrong.</summary>
public class DicomMalformedDataException : DicomException
{
    public DicomMalformedDataException() { }
    public DicomMalformedDataException(string message) : base(message) { }
    public DicomMalformedDataException(string message, Exception innerException) : base(message, innerException) { }
    public DicomMalformedDataException(string message, long offset) : base($"{message} (at byte {offset})") => Offset = offset;

    public long Offset { get; } = -1;
}

/// <summary>The transfer syntax is known but this toolkit cannot decode its dataset encoding (or the UID is unknown).</summary>
public class DicomUnsupportedTransferSyntaxException : DicomException
{
    public DicomUnsupportedTransferSyntaxException() { }
    public DicomUnsupportedTransferSyntaxException(string message) : base(message) { }
    public DicomUnsupportedTransferSyntaxException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A Specific Character Set term is unknown/unsupported, or text cannot be represented in the declared character set.</summary>
public class DicomCharacterSetException : DicomException
{
    public DicomCharacterSetException() { }
    public DicomCharacterSetException(string message) : base(message) { }
    public DicomCharacterSetException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A value cannot be read as the requested type (e.g. "abc" as an integer, a missing element).</summary>
public class DicomValueException : DicomException
{
    public DicomValueException() { }
    public DicomValueException(string message) : base(message) { }
    public DicomValueException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>DICOM JSON (PS3.18 Annex F) input is not valid.</summary>
public class DicomJsonException : DicomException
{
    public DicomJsonException() { }
    public DicomJsonException(string message) : base(message) { }
    public DicomJsonException(string message, Exception innerException) : base(message, innerException) { }
}
