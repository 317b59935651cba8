using ServerlessImaging.Dicom.Web.Qido;

namespace ServerlessImaging.Dicom.Web.Tests.Qido;

public class QidoQueryTests
{
    [Fact]
    public void Study_search_encodes_keys_includefields_fuzzy_and_paging()
    {
        var uri = QidoQuery.Studies()
            .With("PatientName", "DUPONT^J*")
            .With("00100030", "19600101")
            .Include("(0008,1030)")
            .WithFuzzyMatching()
            .ToRelativeUri(offset: 20, limit: 10);
        Assert.Equal("studies?PatientName=DUPONT^J*&PatientBirthDate=19600101&includefield=StudyDescription&fuzzymatching=true&limit=10&offset=20", uri);
    }

    [Fact]
    public void Reserved_characters_in_values_are_escaped()
    {
        Assert.Equal("studies?PatientName=A%26B%3DC%2BD%20E%25%23", QidoQuery.Studies().With("PatientName", "A&B=C+D E%#").ToRelativeUri(0, null));
    }

    [Fact]
    public void Accented_values_are_percent_encoded_as_utf8()
    {
        Assert.Equal("studies?PatientName=H%C3%89LO%C3%8FSE", QidoQuery.Studies().With("PatientName", "HÉLOÏSE").ToRelativeUri(0, null));
    }

    [Theory]
    [InlineData(null, null, "instances")]
    [InlineData("1.2.3", null, "studies/1.2.3/instances")]
    [InlineData("1.2.3", "1.2.3.4", "studies/1.2.3/series/1.2.3.4/instances")]
    public void Instance_search_paths_follow_the_scope(string? study, string? series, string expected)
    {
        Assert.Equal(expected, QidoQuery.Instances(study, series).ToRelativeUri(0, null));
    }

    [Fact]
    public void Series_search_within_a_study_and_private_tags_as_hex()
    {
        Assert.Equal("studies/1.2/series?00091010=x&includefield=all",
            QidoQuery.Series("1.2").With("00091010", "x").IncludeAll().ToRelativeUri(0, null));
    }

    [Fact]
    public void Unknown_keywords_and_bad_uids_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => QidoQuery.Studies().With("PatientNom", "x"));
        Assert.Throws<ArgumentException>(() => QidoQuery.Series("1.2/../x"));
        Assert.Throws<ArgumentException>(() => QidoQuery.Instances(null, "1.2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => QidoQuery.Studies().WithPageSize(0));
    }
}
