namespace ServerlessImaging.Testing.Dcmtk;

/// <summary>Who calls whom: the peer's address and AE title, and the calling AE title.</summary>
public sealed record DicomAssociation(string Host, int Port, string CalledAeTitle, string CallingAeTitle)
{
    internal IEnumerable<string> Arguments() =>
        ["-aet", CallingAeTitle, "-aec", CalledAeTitle, Host, Port.ToString(System.Globalization.CultureInfo.InvariantCulture)];
}
