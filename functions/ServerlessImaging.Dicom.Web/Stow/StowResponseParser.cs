using System.Globalization;
using System.Net;
using System.Xml;
using System.Xml.Linq;
using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Dicom.Web.Stow;

/// <summary>Turns a STOW-RS response (DICOM JSON or the PS3.19 Native DICOM Model XML) into a <see cref="StowResult"/>.</summary>
internal static class StowResponseParser
{
    private static readonly DicomTag FailureReasonTag = new(0x0008, 0x1197);
    private static readonly DicomTag WarningReasonTag = new(0x0008, 0x1196);
    private static readonly DicomTag FailedSopSequence = new(0x0008, 0x1198);
    private static readonly DicomTag ReferencedSopSequence = new(0x0008, 0x1199);
    private static readonly DicomTag RetrieveUrlTag = new(0x0008, 0x1190);
    private static readonly DicomTag ReferencedSopClassUid = new(0x0008, 0x1150);
    private static readonly DicomTag ReferencedSopInstanceUid = new(0x0008, 0x1155);

    public static async Task<StowResult> ParseAsync(HttpResponseMessage response, int sentCount, CancellationToken cancellationToken)
    {
        var warnings = response.Headers.Warning.Select(w => w.ToString()).ToList();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (bytes.Length == 0)
        {
            if (response.IsSuccessStatusCode)
            {
                throw new DicomWebException("DICOMweb STOW-RS succeeded without a response body: the stored instances are unknown.", DicomWebFailureKind.Protocol, response.StatusCode);
            }
            throw new DicomWebException($"DICOMweb STOW-RS failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.", DicomWebException.KindOf(response.StatusCode), response.StatusCode);
        }
        try
        {
            // Orthanc sends its 400 STOW bodies without a Content-Type: sniff.
            var isXml = mediaType?.Contains("xml", StringComparison.OrdinalIgnoreCase) ?? bytes.AsSpan().TrimStart(" \t\r\n"u8).StartsWith("<"u8);
            return isXml
                ? FromXml(bytes, response.StatusCode, sentCount, warnings)
                : FromDataset(DicomJsonResponses.ReadDataset(bytes), response.StatusCode, sentCount, warnings);
        }
        catch (Exception ex) when (ex is DicomException or XmlException or FormatException or OverflowException)
        {
            var body = System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 4096));
            throw new DicomWebException($"DICOMweb STOW-RS response (HTTP {(int)response.StatusCode}) cannot be parsed: {ex.GetType().Name}.", response.IsSuccessStatusCode ? DicomWebFailureKind.Protocol : DicomWebException.KindOf(response.StatusCode), response.StatusCode, body, ex);
        }
    }

    internal static StowResult FromDataset(DicomDataset response, HttpStatusCode status, int sentCount, List<string> warnings)
    {
        var stored = new List<StowStoredInstance>();
        if (response.TryGetSequence(ReferencedSopSequence, out var referenced))
        {
            foreach (var item in referenced.Items)
            {
                ushort? warning = item.Contains(WarningReasonTag) && item.GetStrings(WarningReasonTag).Count > 0 ? item.GetUInt16(WarningReasonTag) : null;
                stored.Add(new StowStoredInstance(
                    item.GetStringOrDefault(ReferencedSopClassUid) ?? "",
                    item.GetStringOrDefault(ReferencedSopInstanceUid) ?? "",
                    item.GetStringOrDefault(RetrieveUrlTag),
                    warning));
            }
        }
        var failed = new List<StowFailedInstance>();
        if (response.TryGetSequence(FailedSopSequence, out var failures))
        {
            foreach (var item in failures.Items)
            {
                failed.Add(new StowFailedInstance(
                    item.GetStringOrDefault(ReferencedSopClassUid) ?? "",
                    item.GetStringOrDefault(ReferencedSopInstanceUid) ?? "",
                    item.Contains(FailureReasonTag) ? item.GetUInt16(FailureReasonTag) : StowStatusCodes.ProcessingFailure));
            }
        }
        return Build(status, sentCount, response.GetStringOrDefault(RetrieveUrlTag), stored, failed, warnings);
    }

    internal static StowResult FromXml(byte[] xml, HttpStatusCode status, int sentCount, List<string> warnings)
    {
        using var reader = XmlReader.Create(new MemoryStream(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        var root = XDocument.Load(reader).Root ?? throw new XmlException("Empty XML document.");
        var stored = Items(root, ReferencedSopSequence).Select(item => new StowStoredInstance(
            Value(item, ReferencedSopClassUid) ?? "",
            Value(item, ReferencedSopInstanceUid) ?? "",
            Value(item, RetrieveUrlTag),
            Value(item, WarningReasonTag) is { } w ? ushort.Parse(w, CultureInfo.InvariantCulture) : null)).ToList();
        var failed = Items(root, FailedSopSequence).Select(item => new StowFailedInstance(
            Value(item, ReferencedSopClassUid) ?? "",
            Value(item, ReferencedSopInstanceUid) ?? "",
            Value(item, FailureReasonTag) is { } f ? ushort.Parse(f, CultureInfo.InvariantCulture) : StowStatusCodes.ProcessingFailure)).ToList();
        return Build(status, sentCount, Value(root, RetrieveUrlTag), stored, failed, warnings);
    }

    private static StowResult Build(HttpStatusCode status, int sentCount, string? retrieveUrl, List<StowStoredInstance> stored, List<StowFailedInstance> failed, List<string> warnings)
    {
        foreach (var instance in stored.Where(s => s.WarningReason is not null))
        {
            warnings.Add($"Instance stored with warning {StowStatusCodes.Describe(instance.WarningReason!.Value)}.");
        }
        var unreported = sentCount - stored.Count - failed.Count;
        if (unreported > 0)
        {
            warnings.Add($"{unreported} of {sentCount} parts were neither stored nor reported as failed.");
        }
        return new StowResult { StatusCode = status, SentCount = sentCount, RetrieveUrl = retrieveUrl, Stored = stored, Failed = failed, Warnings = warnings };
    }

    private static IEnumerable<XElement> Items(XElement parent, DicomTag sequence) =>
        Attribute(parent, sequence)?.Elements().Where(e => e.Name.LocalName == "Item") ?? [];

    private static XElement? Attribute(XElement parent, DicomTag tag) =>
        parent.Elements().FirstOrDefault(e => e.Name.LocalName == "DicomAttribute" && string.Equals((string?)e.Attribute("tag"), tag.ToHexString(), StringComparison.OrdinalIgnoreCase));

    private static string? Value(XElement parent, DicomTag tag) =>
        Attribute(parent, tag)?.Elements().FirstOrDefault(e => e.Name.LocalName == "Value")?.Value is { Length: > 0 } v ? v.Trim() : null;
}
