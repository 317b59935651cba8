namespace ServerlessImaging.Dicom;

/// <summary>A coded concept (PS3.3 Code Sequence Macro): value, coding scheme designator, meaning.</summary>
public sealed record DicomCode(string Value, string Scheme, string Meaning)
{
    /// <summary>The code as a one-item dataset of a code sequence.</summary>
    public DicomDataset ToItem() => new DicomDataset()
        .AddOrUpdate(DicomTag.CodeValue, Value)
        .AddOrUpdate(DicomTag.CodingSchemeDesignator, Scheme)
        .AddOrUpdate(DicomTag.CodeMeaning, Meaning);
}

/// <summary>One instance a Key Object Selection document refers to.</summary>
public sealed record KeyObjectReference(string StudyInstanceUid, string SeriesInstanceUid, string SopClassUid, string SopInstanceUid);

/// <summary>What a Key Object Selection document is made of.</summary>
/// <param name="Title">Document title (concept name of the root container), e.g. <see cref="KeyObjectSelectionDocument.ManifestTitle"/>.</param>
/// <param name="Patient">Patient module attributes copied into the document (name, ID, issuer, birth date, sex, other IDs...).</param>
/// <param name="StudyInstanceUid">Study the document belongs to.</param>
/// <param name="SeriesInstanceUid">Its series (modality KO).</param>
/// <param name="SopInstanceUid">The document's own instance UID.</param>
/// <param name="CreatedAt">Content date and time.</param>
/// <param name="References">Every selected instance; the evidence sequence lists them by study and series.</param>
public sealed record KeyObjectSelection(
    DicomCode Title,
    DicomDataset Patient,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    DateTimeOffset CreatedAt,
    IReadOnlyList<KeyObjectReference> References)
{
    /// <summary>Retrieve AE title written on each referenced series (Retrieve AE Title, 0008,0054), if any.</summary>
    public string? RetrieveAeTitle { get; init; }

    /// <summary>DICOMweb base URL; each referenced series gets its WADO-RS URL (Retrieve URL, 0008,1190) under it.</summary>
    public Uri? RetrieveBaseUrl { get; init; }

    /// <summary>Key Object Description (a TEXT item of the content tree), if any.</summary>
    public string? Description { get; init; }

    /// <summary>General Equipment module's Manufacturer.</summary>
    public string Manufacturer { get; init; } = string.Empty;
}

/// <summary>
/// Builds a Key Object Selection Document (PS3.3 A.35.4; SR template TID 2010), as IHE XDS-I.b uses it for imaging
/// manifests: a root CONTAINER titled by the document title, one IMAGE (or COMPOSITE) item per referenced instance, and
/// the Current Requested Procedure Evidence Sequence listing every study, series and instance with where to retrieve them.
/// </summary>
public static class KeyObjectSelectionDocument
{
    /// <summary>Key Object Selection Document Storage.</summary>
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.88.59";

    /// <summary>Document title of an imaging manifest (CID 7010).</summary>
    public static DicomCode ManifestTitle { get; } = new("113030", "DCM", "Manifest");

    /// <summary>The TEXT item's concept name.</summary>
    public static DicomCode KeyObjectDescription { get; } = new("113012", "DCM", "Key Object Description");

    /// <summary>SOP classes whose references are IMAGE items (the others are COMPOSITE): storage classes with pixel data.</summary>
    private static readonly HashSet<string> NonImageClasses = new(StringComparer.Ordinal)
    {
        SopClassUid,
        "1.2.840.10008.5.1.4.1.1.88.11", // Basic Text SR
        "1.2.840.10008.5.1.4.1.1.88.22", // Enhanced SR
        "1.2.840.10008.5.1.4.1.1.88.33", // Comprehensive SR
        "1.2.840.10008.5.1.4.1.1.104.1", // Encapsulated PDF
        "1.2.840.10008.5.1.4.1.1.11.1", // Grayscale Softcopy Presentation State
    };

    /// <summary>The document as a dataset (write it with <see cref="DicomFile"/>).</summary>
    public static DicomDataset Build(KeyObjectSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        if (selection.References.Count == 0)
        {
            throw new ArgumentException("A Key Object Selection document refers to at least one instance.", nameof(selection));
        }

        var created = selection.CreatedAt.ToUniversalTime();
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
            .AddOrUpdate(DicomTag.SOPClassUID, SopClassUid)
            .AddOrUpdate(DicomTag.SOPInstanceUID, selection.SopInstanceUid)
            .AddOrUpdate(DicomTag.StudyDate, DateOnly.FromDateTime(created.DateTime))
            .AddOrUpdate(DicomTag.StudyTime, TimeOnly.FromDateTime(created.DateTime))
            .AddOrUpdate(DicomTag.ContentDate, DateOnly.FromDateTime(created.DateTime))
            .AddOrUpdate(DicomTag.ContentTime, TimeOnly.FromDateTime(created.DateTime))
            .AddOrUpdate(DicomTag.AccessionNumber, DicomVR.SH)
            .AddOrUpdate(DicomTag.Modality, "KO")
            .AddOrUpdate(DicomTag.Manufacturer, DicomVR.LO, selection.Manufacturer)
            .AddOrUpdate(DicomTag.ReferringPhysicianName, DicomVR.PN)
            .AddOrUpdate(DicomTag.StudyInstanceUID, selection.StudyInstanceUid)
            .AddOrUpdate(DicomTag.SeriesInstanceUID, selection.SeriesInstanceUid)
            .AddOrUpdate(DicomTag.StudyID, DicomVR.SH)
            .AddOrUpdate(DicomTag.SeriesNumber, DicomVR.IS, "1")
            .AddOrUpdate(DicomTag.InstanceNumber, DicomVR.IS, "1")
            .AddOrUpdate(DicomTag.ValueType, "CONTAINER")
            .AddOrUpdate(DicomTag.ContinuityOfContent, "SEPARATE");
        foreach (var item in selection.Patient)
        {
            if (item.Tag.Group != 0x0010)
            {
                continue;
            }

            // Text is decoded from the patient dataset's character set and written again in the document's (UTF-8).
            if (item is DicomElement element && element.VR.IsText)
            {
                ds.AddOrUpdate(element.Tag, element.VR, [.. selection.Patient.GetStrings(element.Tag)]);
            }
            else
            {
                ds.AddOrUpdate(item);
            }
        }

        ds.AddOrUpdate(new DicomSequence(DicomTag.ReferencedPerformedProcedureStepSequence));
        ds.AddOrUpdate(new DicomSequence(DicomTag.ConceptNameCodeSequence, selection.Title.ToItem()));
        ds.AddOrUpdate(new DicomSequence(DicomTag.ContentTemplateSequence, new DicomDataset()
            .AddOrUpdate(DicomTag.MappingResource, "DCMR")
            .AddOrUpdate(DicomTag.TemplateIdentifier, "2010")));
        ds.AddOrUpdate(new DicomSequence(DicomTag.CurrentRequestedProcedureEvidenceSequence, Evidence(selection)));
        var content = new DicomSequence(DicomTag.ContentSequence, Content(selection));
        ds.AddOrUpdate(content);

        // Text in an item is encoded in the character set it inherits from the document, so it is set once attached.
        if (selection.Description is { Length: > 0 } description)
        {
            content.Items[0].AddOrUpdate(DicomTag.TextValue, description);
        }

        return ds;
    }

    private static IEnumerable<DicomDataset> Evidence(KeyObjectSelection selection)
    {
        foreach (var study in selection.References.GroupBy(r => r.StudyInstanceUid, StringComparer.Ordinal))
        {
            var series = study.GroupBy(r => r.SeriesInstanceUid, StringComparer.Ordinal).Select(s =>
            {
                var item = new DicomDataset().AddOrUpdate(DicomTag.SeriesInstanceUID, s.Key);
                if (selection.RetrieveAeTitle is { Length: > 0 } ae)
                {
                    item.AddOrUpdate(DicomTag.RetrieveAETitle, ae);
                }

                if (selection.RetrieveBaseUrl is { } baseUrl)
                {
                    item.AddOrUpdate(DicomTag.RetrieveURL, new Uri(WithSlash(baseUrl), $"studies/{study.Key}/series/{s.Key}").AbsoluteUri);
                }

                return item.Add(new DicomSequence(DicomTag.ReferencedSOPSequence, s.Select(Reference)));
            });
            yield return new DicomDataset()
                .AddOrUpdate(DicomTag.StudyInstanceUID, study.Key)
                .Add(new DicomSequence(DicomTag.ReferencedSeriesSequence, series));
        }
    }

    private static IEnumerable<DicomDataset> Content(KeyObjectSelection selection)
    {
        if (selection.Description is { Length: > 0 })
        {
            yield return new DicomDataset()
                .AddOrUpdate(DicomTag.RelationshipType, "CONTAINS")
                .AddOrUpdate(DicomTag.ValueType, "TEXT")
                .Add(new DicomSequence(DicomTag.ConceptNameCodeSequence, KeyObjectDescription.ToItem())); // TextValue: see Build
        }

        foreach (var reference in selection.References)
        {
            yield return new DicomDataset()
                .AddOrUpdate(DicomTag.RelationshipType, "CONTAINS")
                .AddOrUpdate(DicomTag.ValueType, NonImageClasses.Contains(reference.SopClassUid) ? "COMPOSITE" : "IMAGE")
                .Add(new DicomSequence(DicomTag.ReferencedSOPSequence, Reference(reference)));
        }
    }

    private static DicomDataset Reference(KeyObjectReference reference) => new DicomDataset()
        .AddOrUpdate(DicomTag.ReferencedSOPClassUID, reference.SopClassUid)
        .AddOrUpdate(DicomTag.ReferencedSOPInstanceUID, reference.SopInstanceUid);

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
