using ServerlessImaging.Orchestration.Validation;

namespace ServerlessImaging.Orchestration.Meetings;

/// <summary>
/// Where a meeting's studies are delivered besides the cloud DICOM service: a DICOM node (the meeting site's PACS or
/// reading console) reached through the relay of <see cref="SiteId"/>. That relay also has to list the node in its own
/// allow-list (<c>Relay:Delivery:AllowedDestinations</c>); this setting alone sends nothing anywhere.
/// </summary>
/// <param name="SiteId">A configured site of the network (its relay delivers).</param>
/// <param name="AeTitle">Called AE title of the node (PS3.5 AE: 1-16 characters of the default repertoire, no backslash).</param>
/// <param name="Host">Host name or IP address of the node, as the site's relay reaches it.</param>
/// <param name="Port">DICOM port of the node.</param>
public sealed record MeetingDestination(string SiteId, string AeTitle, string Host, int Port)
{
    /// <summary>Longest DNS host name.</summary>
    public const int MaxHostLength = 253;

    /// <summary>
    /// Reports what is wrong under <paramref name="field"/>. <paramref name="knownSiteIds"/>: the configured sites
    /// (null: the site is checked for shape only, e.g. when reading a stored meeting).
    /// </summary>
    public void Validate(ValidationErrors errors, string field, IReadOnlyCollection<string>? knownSiteIds)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.RequireText(SiteId, $"{field}.siteId", 48) && knownSiteIds is not null)
        {
            errors.Require(knownSiteIds.Contains(SiteId, StringComparer.Ordinal), $"{field}.siteId", "unknown_site", "Not a site of the network.");
        }

        errors.Require(IsAeTitle(AeTitle), $"{field}.aeTitle", "invalid_ae_title", "An AE title is 1 to 16 characters of the DICOM default repertoire (printable ASCII, no backslash), not only spaces.");
        if (errors.RequireText(Host, $"{field}.host", MaxHostLength))
        {
            errors.Require(Uri.CheckHostName(Host) is not UriHostNameType.Unknown, $"{field}.host", "invalid_host", "Not a host name or an IP address.");
        }

        errors.Require(Port is >= 1 and <= 65535, $"{field}.port", "out_of_range", "A port is between 1 and 65535.");
    }

    /// <summary>
    /// PS3.5 Table 6.2-1, AE: at most 16 characters of the default character repertoire (G0 of ISO 646: 0x20-0x7E)
    /// without backslash or control characters; leading and trailing spaces are not significant, so a title of spaces
    /// only names nothing.
    /// </summary>
    public static bool IsAeTitle(string? value) =>
        value is { Length: > 0 and <= 16 }
        && !string.IsNullOrWhiteSpace(value)
        && value.All(c => c is >= ' ' and <= '~' and not '\\');
}
