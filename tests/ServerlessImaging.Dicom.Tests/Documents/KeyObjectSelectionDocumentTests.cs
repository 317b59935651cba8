using ServerlessImaging.Dicom.Tests.Support;

namespace ServerlessImaging.Dicom.Tests.Documents;

/// <summary>An imaging manifest (Key Object Selection document) written by the toolkit, read by dcmtk and by the toolkit.</summary>
public sealed class KeyObjectSelectionDocumentTests
{
    private const string CtImage = "1.2.840.10008.5.1.4.1.1.2";
    private const string ComprehensiveSr = "1.2.840.10008.5.1.4.1.1.88.33";

    private static KeyObjectSelection Manifest(out List<KeyObjectReference> references)
    {
        var (study1, study2) = (DicomUid.Generate(), DicomUid.Generate());
        var (series1, series2, series3) = (DicomUid.Generate(), DicomUid.Generate(), DicomUid.Generate());
        references =
        [
            new(study1, series1, CtImage, DicomUid.Generate()),
            new(study1, series1, CtImage, DicomUid.Generate()),
            new(study1, series2, CtImage, DicomUid.Generate()),
            new(study2, series3, ComprehensiveSr, DicomUid.Generate()),
        ];
        var patient = new DicomDataset()
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 100") // Latin-1 in, UTF-8 out
            .AddOrUpdate(DicomTag.PatientName, "Dupont^Hélène")
            .AddOrUpdate(DicomTag.PatientID, "261047512345678")
            .AddOrUpdate(DicomTag.IssuerOfPatientID, "1.2.250.1.213.1.4.8")
            .AddOrUpdate(DicomTag.PatientBirthDate, new DateOnly(1961, 4, 2))
            .AddOrUpdate(DicomTag.PatientSex, "F")
            .AddOrUpdate(DicomTag.Modality, "CT"); // not a patient attribute: must not be copied
        return new KeyObjectSelection(KeyObjectSelectionDocument.ManifestTitle, patient, DicomUid.Generate(), DicomUid.Generate(), DicomUid.Generate(), new DateTimeOffset(2026, 12, 4, 21, 30, 0, TimeSpan.Zero), references)
        {
            RetrieveAeTitle = "SI_DICOM",
            RetrieveBaseUrl = new Uri("https://dicom.example.org/v2"),
            Description = "Images pour la RCP thoracique (Hélène)",
            Manufacturer = "ServerlessImaging",
        };
    }

    [Fact]
    public async Task Dcmtk_reads_the_manifest_tree_and_its_evidence_lists_every_referenced_instance()
    {
        var selection = Manifest(out var references);
        var path = Path.Combine(TestPaths.TempDir(), "manifest.dcm");
        await new DicomFile(KeyObjectSelectionDocument.Build(selection)).SaveAsync(path);

        // dsrdump parses it as a structured report: the titled root container, the description, one item per instance.
        var tree = await Dcmtk.RunAsync("dsrdump", "-Ei", "+Pc", path);
        Assert.True(tree.ExitCode == 0, tree.StdErr);
        Assert.DoesNotContain("Error", tree.StdErr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Key Object Selection Document", tree.StdOut, StringComparison.Ordinal);
        Assert.Contains("<CONTAINER:(113030,DCM,\"Manifest\")=SEPARATE>", tree.StdOut, StringComparison.Ordinal);
        Assert.Contains("(113012,DCM,\"Key Object Description\")=\"Images pour la RCP", tree.StdOut, StringComparison.Ordinal); // dsrdump shortens long text
        Assert.Equal(3, CountOf(tree.StdOut, "contains IMAGE:"));
        Assert.Equal(1, CountOf(tree.StdOut, "contains COMPOSITE:"));

        // dcmdump shows the evidence sequence with every UID and where to retrieve each series.
        var dump = await Dcmtk.RunAsync("dcmdump", "+L", path); // +L: long values whole (the retrieve URLs)
        Assert.True(dump.ExitCode == 0, dump.StdErr);
        Assert.Contains("(0040,a375) SQ", dump.StdOut, StringComparison.Ordinal);
        foreach (var reference in references)
        {
            Assert.Contains(reference.SopInstanceUid, dump.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains($"https://dicom.example.org/v2/studies/{references[0].StudyInstanceUid}/series/{references[0].SeriesInstanceUid}", dump.StdOut, StringComparison.Ordinal);
        Assert.Contains("[SI_DICOM]", dump.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_evidence_read_back_names_exactly_the_references_grouped_by_study_and_series_with_the_patient()
    {
        var selection = Manifest(out var references);
        var bytes = await new DicomFile(KeyObjectSelectionDocument.Build(selection)).ToBytesAsync();
        var read = (await DicomFile.OpenAsync(new MemoryStream(bytes))).Dataset;

        var evidence = read.GetSequence(DicomTag.CurrentRequestedProcedureEvidenceSequence).Items;
        Assert.Equal(2, evidence.Count);
        var listed = evidence.SelectMany(study => study.GetSequence(DicomTag.ReferencedSeriesSequence).Items.SelectMany(series =>
            series.GetSequence(DicomTag.ReferencedSOPSequence).Items.Select(sop => new KeyObjectReference(
                study.GetString(DicomTag.StudyInstanceUID), series.GetString(DicomTag.SeriesInstanceUID),
                sop.GetString(DicomTag.ReferencedSOPClassUID), sop.GetString(DicomTag.ReferencedSOPInstanceUID)))));
        Assert.Equal(references.OrderBy(r => r.SopInstanceUid, StringComparer.Ordinal), listed.OrderBy(r => r.SopInstanceUid, StringComparer.Ordinal));

        Assert.Equal("Dupont^Hélène", read.GetString(DicomTag.PatientName));
        Assert.Equal("Images pour la RCP thoracique (Hélène)", read.GetSequence(DicomTag.ContentSequence).Items[0].GetString(DicomTag.TextValue));
        Assert.Equal("1.2.250.1.213.1.4.8", read.GetString(DicomTag.IssuerOfPatientID));
        Assert.Equal("KO", read.GetString(DicomTag.Modality));
        Assert.Equal(KeyObjectSelectionDocument.SopClassUid, read.GetString(DicomTag.SOPClassUID));
        Assert.Throws<ArgumentException>(() => KeyObjectSelectionDocument.Build(selection with { References = [] }));
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
