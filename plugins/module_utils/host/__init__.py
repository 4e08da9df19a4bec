"""Host-side engines of the files and deb_packages_info modules."""
