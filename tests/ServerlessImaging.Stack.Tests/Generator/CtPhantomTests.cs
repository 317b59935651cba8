using System.Buffers.Binary;
using ServerlessImaging.Dicom;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;
using ServerlessImaging.RegionGenerator.Sites;
using ServerlessImaging.RegionGenerator.Writing;

namespace ServerlessImaging.Stack.Tests.Generator;

/// <summary>The chest CT phantom (--ct-phantom): where it goes in the region, its geometry and its Hounsfield units.</summary>
public sealed class CtPhantomTests : IDisposable
{
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("si-ct-phantom-");

    public void Dispose() => scratch.Delete(recursive: true);

    [Fact]
    public void The_phantom_study_goes_to_the_first_person_before_its_other_studies_and_only_when_asked()
    {
        var options = GenerationProfiles.Get("tiny", RegionSites.DefaultIds);
        var without = RegionWriter.Plan(42, options, RegionSites.Defaults);
        var with = RegionWriter.Plan(42, options with { CtPhantomSlices = 20 }, RegionSites.Defaults);

        Assert.DoesNotContain(without.Studies, s => s.Series.Any(x => x.Pixels is not null));
        Assert.Null(without.Options.CtPhantomSlices);
        Assert.Equal(20, with.Options.CtPhantomSlices);
        var phantom = Assert.Single(with.Studies, s => s.Series.Any(x => x.Pixels == CtPhantom.PixelsKind));
        Assert.Equal("P0001", phantom.PatientKey);
        var series = Assert.Single(phantom.Series);
        Assert.Equal((512, 512, 20, "CT"), (series.Rows, series.Columns, series.Instances.Count, series.Modality));
        Assert.Contains(phantom.Sites[0], without.Studies.First(s => s.PatientKey == "P0001").Sites);

        // Everything else is unchanged, and the person's own studies keep their order after it.
        Assert.Equal(without.Studies.Select(s => s.StudyInstanceUid), with.Studies.Where(s => s != phantom).Select(s => s.StudyInstanceUid));
        var own = with.Studies.Where(s => s.PatientKey == "P0001").ToList();
        Assert.Same(phantom, own[0]);
    }

    [Fact]
    public async Task Its_slices_are_a_plausible_CT_in_Hounsfield_units_with_geometry_rescale_and_window()
    {
        var options = GenerationProfiles.Get("tiny", ["chu-nord"]) with { CtPhantomSlices = 12 };
        var plan = RegionWriter.Plan(7, options, [.. RegionSites.Defaults.Where(s => s.Id == "chu-nord")]);
        var manifest = await RegionWriter.WriteAsync(plan, scratch.FullName, CancellationToken.None);
        var series = manifest.Studies.SelectMany(s => s.Series).Single(s => s.Pixels == CtPhantom.PixelsKind);

        var middle = series.Instances[6];
        var file = await DicomFile.OpenAsync(Path.Combine(scratch.FullName, middle.Files[0].Path));
        var ds = file.Dataset;
        Assert.Equal("-1024", ds.GetString(DicomTag.RescaleIntercept));
        Assert.Equal("1", ds.GetString(DicomTag.RescaleSlope));
        Assert.Equal("40", ds.GetString(DicomTag.WindowCenter));
        Assert.Equal("400", ds.GetString(DicomTag.WindowWidth));
        Assert.Equal(@"0.78125\0.78125", ds.GetString(DicomTag.PixelSpacing));
        Assert.Equal("5", ds.GetString(DicomTag.SliceThickness));
        Assert.Equal(@"-199.609375\-199.609375\-30", ds.GetString(DicomTag.ImagePositionPatient));

        // Stored value - 1024 = HU: air outside, fat under the skin, lungs, soft tissue, the vertebral body.
        var pixels = CtPhantom.Create(7, 12, 1);
        int Hu(int x, int y) => BinaryPrimitives.ReadUInt16LittleEndian(pixels.AsSpan((y * 512 + x) * 2)) - 1024;
        Assert.Equal(-1000, Hu(5, 5));
        Assert.InRange(Hu(256, 256 - 133), -110, -90);
        Assert.InRange(Hu(256 - 95, 256), -860, -840);
        Assert.InRange(Hu(256, 256 - 110), 30, 50);
        Assert.InRange(Hu(256, 256 + 85), 240, 260);

        // Slices differ along the stack (lungs grow then shrink), and the same inputs give the same bytes.
        Assert.False(CtPhantom.Create(1, 12, 1).AsSpan().SequenceEqual(pixels));
        Assert.True(CtPhantom.Create(7, 12, 1).AsSpan().SequenceEqual(pixels));
    }
}
