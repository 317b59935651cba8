namespace ServerlessImaging.Dicom.Web.Http;

/// <summary>
/// Builds resource paths relative to a service base URL. Azure's base is
/// <c>https://ws-svc.dicom.azurehealthcareapis.com/v2/</c>, Orthanc's <c>http://host:8042/dicom-web/</c>;
/// the base always gets a trailing slash so relative paths join under it instead of replacing its last segment.
/// </summary>
public static class DicomWebPaths
{
    public static Uri NormalizeBase(Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException("The DICOMweb base address must be an absolute http(s) URL.", nameof(baseAddress));
        }
        if (!string.IsNullOrEmpty(baseAddress.Query) || !string.IsNullOrEmpty(baseAddress.Fragment))
        {
            throw new ArgumentException("The DICOMweb base address must not carry a query or fragment.", nameof(baseAddress));
        }
        var text = baseAddress.AbsoluteUri;
        return text.EndsWith('/') ? baseAddress : new Uri(text + "/");
    }

    /// <summary>"studies", "studies/{s}", "studies/{s}/series/{r}", "studies/{s}/series/{r}/instances/{i}".</summary>
    public static string Resource(string? study = null, string? series = null, string? instance = null)
    {
        if (study is null)
        {
            return series is null && instance is null ? "studies" : throw new ArgumentException("A series or instance needs its study UID.");
        }
        var path = "studies/" + Uid(study);
        if (series is not null)
        {
            path += "/series/" + Uid(series);
        }
        if (instance is not null)
        {
            path += series is null ? throw new ArgumentException("An instance needs its series UID.") : "/instances/" + Uid(instance);
        }
        return path;
    }

    /// <summary>A UID is 1-64 characters of digits and dots: validating it also rules out path injection.</summary>
    public static string Uid(string uid)
    {
        ArgumentNullException.ThrowIfNull(uid);
        if (uid.Length is 0 or > 64 || uid[0] == '.' || uid[^1] == '.')
        {
            throw new ArgumentException("Not a valid DICOM UID.", nameof(uid));
        }
        foreach (var c in uid)
        {
            if (c is not ('.' or (>= '0' and <= '9')))
            {
                throw new ArgumentException("Not a valid DICOM UID.", nameof(uid));
            }
        }
        return uid;
    }
}
