"""The git-native lifecycle around the pipeline: data versions as commits, experiments ranked from
DVC, promotion as a pull request, releases as GTO tags, and the history read back from git."""
